-- Spend per user and UTC day, the input of dashboards and of day-level features.
-- Portable SQL: it builds the same on DuckDB and on PostgreSQL.
SELECT
  user_id,
  CAST(ts AS DATE) AS day,
  count(*) AS txn_count,
  sum(amount) AS amount_sum
FROM {{ source('transactions') }}
GROUP BY user_id, CAST(ts AS DATE)

-- Spend per user and UTC day, the input of dashboards and of day-level features.
SELECT
  user_id,
  CAST(ts AS DATE) AS day,
  count(*) AS txn_count,
  sum(amount) AS amount_sum
FROM {{ source('transactions') }}
GROUP BY ALL

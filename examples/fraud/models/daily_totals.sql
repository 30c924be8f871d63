-- Totals per UTC day. Incremental: each build adds the days after the newest one it holds.
SELECT
  CAST(ts AS DATE) AS day,
  count(*) AS txn_count,
  count(DISTINCT user_id) AS active_users,
  sum(amount) AS amount_sum
FROM {{ source('transactions') }}
GROUP BY CAST(ts AS DATE)

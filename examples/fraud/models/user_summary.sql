-- One row per user: their profile and lifetime activity, built on daily_spend.
SELECT
  u.user_id,
  u.country,
  u.segment,
  CAST(count(d.day) AS BIGINT) AS active_days,
  CAST(coalesce(sum(d.txn_count), 0) AS BIGINT) AS txn_count,
  coalesce(sum(d.amount_sum), 0) AS amount_sum,
  max(d.day) AS last_active_day
FROM {{ source('users') }} AS u
LEFT JOIN {{ ref('daily_spend') }} AS d ON d.user_id = u.user_id
GROUP BY u.user_id, u.country, u.segment

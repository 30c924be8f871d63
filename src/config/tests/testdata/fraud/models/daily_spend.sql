SELECT user_id, CAST(ts AS DATE) AS day, 'EUR' AS currency, sum(amount) AS total FROM transactions GROUP BY ALL

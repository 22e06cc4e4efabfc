-- Implicit feedback before the holdout: per customer and product, 3 per order that bought it plus
-- 1 per view. Guest orders and anonymous sessions carry no customer and are left out.
WITH bought AS (
  SELECT customer_id, product_id, 3D * count(DISTINCT order_id) AS strength
  FROM clean_transactions
  WHERE order_ts < CAST(date_sub(:snapshot_date, :holdout_days) AS TIMESTAMP)
  GROUP BY customer_id, product_id
),
viewed AS (
  SELECT customer_id, product_id, CAST(count(*) AS DOUBLE) AS strength
  FROM events
  WHERE event_type = 'view' AND customer_id IS NOT NULL AND product_id IS NOT NULL
    AND event_ts < CAST(date_sub(:snapshot_date, :holdout_days) AS TIMESTAMP)
  GROUP BY customer_id, product_id
)
SELECT customer_id, product_id, sum(strength) AS strength
FROM (SELECT * FROM bought UNION ALL SELECT * FROM viewed)
GROUP BY customer_id, product_id

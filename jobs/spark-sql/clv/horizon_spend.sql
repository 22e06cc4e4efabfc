-- The label: what each customer spent over the horizon after the cutoff, counted from the clean
-- transactions themselves: every customer with features (0 when they bought nothing then) and every
-- customer who bought in the horizon (without features they are counted in coverage, not predicted).
-- Generated data carries a planted next period after its history: when the cutoff is the day that
-- history ends and the horizon is the period's length, the planted spend is the label, with its
-- planted mean (expected_spend) beside it.
WITH planted AS (
  SELECT * FROM next_period WHERE after = :cutoff AND days = :horizon_days
),
observed AS (
  SELECT customer_id, count(DISTINCT order_id) AS orders, sum(quantity * unit_price) AS spend
  FROM transactions_all
  WHERE order_ts >= CAST(date_add(:cutoff, 1) AS TIMESTAMP)
    AND order_ts < CAST(date_add(:cutoff, 1 + :horizon_days) AS TIMESTAMP)
  GROUP BY customer_id
)
SELECT coalesce(f.customer_id, o.customer_id) AS customer_id, :horizon_days AS days,
       CAST(coalesce(o.orders, 0) AS INT) AS orders, greatest(coalesce(o.spend, 0D), 0D) AS spend,
       CAST(NULL AS DOUBLE) AS expected_spend
FROM customer_features f
FULL OUTER JOIN observed o ON o.customer_id = f.customer_id
WHERE NOT EXISTS (SELECT 1 FROM planted)
UNION ALL
SELECT customer_id, days, orders, spend, expected_spend FROM planted

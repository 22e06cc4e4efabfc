-- One row per customer with features and an observed next-period spend (the label), with the naive
-- prediction: what the customer spent per day so far (first order to snapshot), over the period's days.
SELECT
  p.*,
  n.spend,
  n.expected_spend,
  greatest(p.monetary, 0D) * n.days / greatest(p.tenure_days, 1) AS baseline_spend
FROM customer_profile p
JOIN next_period n ON n.customer_id = p.customer_id

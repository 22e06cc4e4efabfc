-- One row per customer with features as of the cutoff and a spend over the horizon after it (the
-- label), with the naive prediction: what the customer spent per day so far (first order to the
-- cutoff), over the horizon's days.
SELECT
  p.*,
  n.spend,
  n.expected_spend,
  greatest(p.monetary, 0D) * n.days / greatest(p.tenure_days, 1) AS baseline_spend
FROM customer_profile p
JOIN horizon_spend n ON n.customer_id = p.customer_id

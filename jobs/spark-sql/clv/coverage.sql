-- Customers with a spend over the horizon but no features (no clean purchase up to the cutoff)
-- cannot be predicted from their history; they are counted, not silently dropped.
SELECT
  count(*) AS labelled_customers,
  count(p.customer_id) AS with_features,
  count(*) - count(p.customer_id) AS without_features,
  coalesce(sum(CASE WHEN p.customer_id IS NULL THEN n.spend END), 0D) AS spend_without_features
FROM horizon_spend n
LEFT JOIN customer_profile p ON p.customer_id = n.customer_id

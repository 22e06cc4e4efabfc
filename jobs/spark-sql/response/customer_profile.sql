-- One row per customer a model can score: behaviour and RFM features, the segment, and the
-- customer's attributes, with impossible ages (below 16 or above 100) treated as missing. With a
-- purchase history (customer_features), the customers who bought; without one (a source of customer
-- attributes and campaigns only), every customer, unsegmented.
SELECT
  coalesce(f.customer_id, c.customer_id) AS customer_id,
  f.recency_days, f.frequency, f.monetary, f.avg_order_value, f.tenure_days,
  f.n_categories, f.top_category_share,
  f.views, f.searches, f.carts, f.favourites, f.view_to_purchase,
  f.views + f.searches + f.carts + f.favourites AS events,
  coalesce(s.segment, 'unsegmented') AS segment,
  CASE WHEN c.age BETWEEN 16 AND 100 THEN c.age END AS age,
  c.gender,
  c.region
FROM customer_features f
FULL OUTER JOIN customers c ON c.customer_id = f.customer_id
LEFT JOIN customer_segments s ON s.customer_id = coalesce(f.customer_id, c.customer_id)
WHERE f.customer_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM customer_features)

-- Every exposure, contacted or held out, with the customer's profile: what an uplift model learns
-- from. Customers without a profile (no clean purchase) cannot be scored.
SELECT
  e.exposure_id, e.customer_id, e.campaign_id, e.campaign_type, e.channel, e.test_group, e.arm, e.responded,
  p.recency_days, p.frequency, p.monetary, p.avg_order_value, p.tenure_days,
  p.n_categories, p.top_category_share,
  p.views, p.searches, p.carts, p.favourites, p.view_to_purchase, p.events,
  p.segment, p.age, p.gender, p.region
FROM campaigns e
JOIN customer_profile p ON p.customer_id = e.customer_id

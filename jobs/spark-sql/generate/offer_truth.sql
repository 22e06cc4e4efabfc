-- The planted truth of every offer: for each customer, campaign type and channel, the probability
-- of responding without contact (p_control: the customer buys anyway) and when contacted
-- (p_treatment). Both are logistic in the latent parameters that the customer features measure:
-- engaged customers buy more anyway; coupons move price-sensitive new and lapsing customers but not
-- the high-value ones (who would buy anyway); loyalty offers work on long-standing buyers; push
-- works for app-heavy customers, social for younger ones.
WITH o AS (
  SELECT
    c.customer_id, c.n_orders, c.recency_days, c.n_events, c.u_age,
    t.campaign_type, ch.channel,
    0.08 * least(c.n_orders, 30) - 0.006 * c.recency_days AS engagement
  FROM customers_latent c
  LATERAL VIEW explode(array('coupon', 'new_product', 'loyalty')) t AS campaign_type
  LATERAL VIEW explode(array('email', 'sms', 'push', 'social')) ch AS channel
),
l AS (
  SELECT *,
    -3.1 + engagement + CASE campaign_type
      WHEN 'coupon' THEN 0.0
      WHEN 'new_product' THEN -0.2
      ELSE 0.04 * least(n_orders, 30) - 0.6 END AS logit_control,
    CASE campaign_type
      WHEN 'coupon' THEN 1.5 - 0.07 * least(n_orders, 30)
      WHEN 'new_product' THEN 0.2 + 0.004 * n_events
      ELSE 0.1 + 0.04 * least(n_orders, 30) END
    + CASE channel
      WHEN 'email' THEN 0.0
      WHEN 'sms' THEN -0.2
      WHEN 'push' THEN -1.0 + 0.008 * n_events
      ELSE 0.7 - 1.6 * u_age END AS treatment_effect
  FROM o
)
SELECT
  customer_id,
  campaign_type,
  channel,
  1 / (1 + exp(-logit_control)) AS p_control,
  1 / (1 + exp(-(logit_control + treatment_effect))) AS p_treatment
FROM l

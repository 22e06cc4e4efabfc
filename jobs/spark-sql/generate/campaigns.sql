-- Twelve weekly campaigns, four of each type (coupon, new product, loyalty), each a randomised A/B test:
-- a customer is in a campaign's audience with probability 0.8, on one channel; 20% of the
-- audience is held out as a control group and not contacted. Whether a customer responds is
-- drawn from the planted probability of the offer (offer_truth): p_treatment when contacted,
-- p_control when held out.
WITH x AS (
  SELECT
    c.id, c.customer_id, k.campaign_index,
    element_at(array('coupon', 'new_product', 'loyalty'), 1 + (k.campaign_index - 1) % 3) AS campaign_type,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'expose'), 11) + 0.5) / 9007199254740992D AS u_expose,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'channel'), 11) + 0.5) / 9007199254740992D AS u_channel,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'group'), 11) + 0.5) / 9007199254740992D AS u_group,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'respond'), 11) + 0.5) / 9007199254740992D AS u_respond,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'revenue'), 11) + 0.5) / 9007199254740992D AS u_revenue,
    timestamp_seconds(unix_seconds(CAST(date_sub(:as_of, 90 - 7 * k.campaign_index) AS TIMESTAMP)) + 36000) AS exposed_ts
  FROM customers_latent c
  LATERAL VIEW explode(sequence(1, 12)) k AS campaign_index
),
a AS (
  SELECT x.*,
    element_at(array('email', 'sms', 'push', 'social'), 1 + CAST(u_channel * 4 AS INT)) AS channel,
    CASE WHEN u_group < 0.2 THEN 'control' ELSE 'treatment' END AS test_group
  FROM x WHERE u_expose < 0.8
),
r AS (
  SELECT a.*,
    u_respond < CASE test_group WHEN 'treatment' THEN t.p_treatment ELSE t.p_control END AS responded
  FROM a
  JOIN offer_truth t ON t.customer_id = a.customer_id AND t.campaign_type = a.campaign_type AND t.channel = a.channel
)
SELECT
  format_string('X%d-%d', id, campaign_index) AS exposure_id,
  format_string('CMP-%d', campaign_index) AS campaign_id,
  campaign_type,
  channel,
  customer_id,
  exposed_ts,
  test_group,
  CAST(NULL AS STRING) AS arm,
  responded,
  CASE WHEN responded THEN timestamp_seconds(unix_seconds(exposed_ts) + CAST(u_revenue * 604800 AS BIGINT)) END AS response_ts,
  CASE WHEN responded THEN round(20 + u_revenue * 180, 2) END AS revenue
FROM r

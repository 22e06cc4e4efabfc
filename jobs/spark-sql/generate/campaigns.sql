-- Three campaigns (coupon, new product, loyalty offer). Each customer is exposed to each with
-- probability 0.5 on one channel; 10% of the exposed are held out as a control group. The
-- response probability depends on the planted segment; treatment multiplies it by 1.5.
WITH x AS (
  SELECT
    c.id, c.customer_id, c.true_segment, k.campaign_index,
    element_at(array('coupon', 'new_product', 'loyalty'), k.campaign_index) AS campaign_type,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'expose'), 11) + 0.5) / 9007199254740992D AS u_expose,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'channel'), 11) + 0.5) / 9007199254740992D AS u_channel,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'group'), 11) + 0.5) / 9007199254740992D AS u_group,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'respond'), 11) + 0.5) / 9007199254740992D AS u_respond,
    (shiftrightunsigned(xxhash64(:seed, c.id, k.campaign_index, 'revenue'), 11) + 0.5) / 9007199254740992D AS u_revenue
  FROM customers_latent c
  LATERAL VIEW explode(sequence(1, 3)) k AS campaign_index
),
p AS (
  SELECT *,
    CASE WHEN u_group < 0.1 THEN 'control' ELSE 'treatment' END AS test_group,
    CASE true_segment WHEN 'high-value' THEN 0.12 WHEN 'loyal' THEN 0.08 WHEN 'potential' THEN 0.05 ELSE 0.02 END
      * CASE campaign_type WHEN 'coupon' THEN 1.2 WHEN 'loyalty' THEN 1.0 ELSE 0.8 END AS base_rate
  FROM x WHERE u_expose < 0.5
)
SELECT
  format_string('X%d-%d', id, campaign_index) AS exposure_id,
  format_string('CMP-%d', campaign_index) AS campaign_id,
  campaign_type,
  element_at(array('email', 'sms', 'push', 'social'), 1 + CAST(u_channel * 4 AS INT)) AS channel,
  customer_id,
  timestamp_seconds(unix_seconds(CAST(date_sub(:as_of, 60 - 14 * campaign_index) AS TIMESTAMP)) + 36000) AS exposed_ts,
  test_group,
  u_respond < base_rate * CASE test_group WHEN 'treatment' THEN 1.5 ELSE 1.0 END AS responded,
  CASE WHEN u_respond < base_rate * CASE test_group WHEN 'treatment' THEN 1.5 ELSE 1.0 END
       THEN timestamp_seconds(unix_seconds(CAST(date_sub(:as_of, 60 - 14 * campaign_index) AS TIMESTAMP)) + 36000 + CAST(u_revenue * 604800 AS BIGINT)) END AS response_ts,
  CASE WHEN u_respond < base_rate * CASE test_group WHEN 'treatment' THEN 1.5 ELSE 1.0 END
       THEN round(20 + u_revenue * 180, 2) END AS revenue
FROM p

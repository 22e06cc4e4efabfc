-- Conversion rate, acquisition cost per responder (CAC), revenue per responder, value of the
-- responders (their spend so far), and ROI of the contacted (treatment) exposures, by campaign,
-- campaign type, channel and segment.
WITH t AS (
  SELECT x.*, f.monetary
  FROM exposures x
  LEFT JOIN customer_features f ON f.customer_id = x.customer_id
  WHERE x.test_group = 'treatment'
),
g AS (
  SELECT
    CASE WHEN grouping(campaign_id) = 0 THEN 'campaign'
         WHEN grouping(campaign_type) = 0 THEN 'campaign_type'
         WHEN grouping(channel) = 0 THEN 'channel'
         WHEN grouping(segment) = 0 THEN 'segment'
         ELSE 'overall' END AS scope,
    coalesce(campaign_id, campaign_type, channel, segment, 'all') AS scope_value,
    count(*) AS contacted,
    count_if(responded) AS responders,
    sum(revenue) AS revenue,
    sum(cost) AS cost,
    avg(CASE WHEN responded THEN monetary END) AS responder_value
  FROM t
  GROUP BY GROUPING SETS ((campaign_id), (campaign_type), (channel), (segment), ())
)
SELECT
  scope, scope_value, contacted, responders,
  responders / contacted AS conversion_rate,
  revenue, cost,
  CASE WHEN responders > 0 THEN cost / responders END AS cac,
  CASE WHEN responders > 0 THEN revenue / responders END AS revenue_per_responder,
  responder_value,
  CASE WHEN cost > 0 THEN (revenue * :margin - cost) / cost END AS roi
FROM g

-- Every offer of the campaign type: each customer on each channel, with its expected profit =
-- p_response x revenue per response (the average of past responses to this campaign type) x margin
-- - the channel's contact cost.
WITH value AS (
  SELECT campaign_type, avg(revenue) AS revenue_per_response
  FROM campaigns
  WHERE responded AND revenue IS NOT NULL
  GROUP BY campaign_type
)
SELECT
  o.customer_id, o.segment, o.campaign_type, o.channel, o.p_response,
  o.p_response * v.revenue_per_response AS expected_revenue,
  c.cost,
  o.p_response * v.revenue_per_response * :margin - c.cost AS expected_profit
FROM offer_scores o
JOIN value v ON v.campaign_type = o.campaign_type
JOIN (SELECT 'email' AS channel, :cost_email AS cost UNION ALL SELECT 'sms', :cost_sms
      UNION ALL SELECT 'push', :cost_push UNION ALL SELECT 'social', :cost_social) c ON c.channel = o.channel
WHERE o.campaign_type = :campaign_type

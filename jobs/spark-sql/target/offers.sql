-- Every offer of the campaign type: each customer on each channel, with its expected profit =
-- basis x revenue per response (the average of past responses to this campaign type) x margin
-- - the channel's contact cost, where the basis is p_response, or the uplift (the response the
-- contact causes: a customer who would buy anyway is worth nothing more for being contacted).
WITH value AS (
  SELECT campaign_type, avg(revenue) AS revenue_per_response
  FROM campaigns
  WHERE responded AND revenue IS NOT NULL
  GROUP BY campaign_type
),
based AS (
  SELECT o.*,
    CASE WHEN :basis = 'response' THEN o.p_response
         WHEN o.uplift IS NOT NULL THEN o.uplift
         ELSE raise_error('invalid input: the uplift basis needs predicted uplift, and the scores run holds none (it is a score run of a response model); '
                          || 'fix: pass --param scores=<a score-uplift run id>, or --param basis=response')
    END AS basis_value
  FROM offer_scores o
  WHERE o.campaign_type = :campaign_type
)
SELECT
  o.customer_id, o.segment, o.campaign_type, o.channel, o.p_response, o.uplift,
  o.basis_value * v.revenue_per_response AS expected_revenue,
  c.cost,
  o.basis_value * v.revenue_per_response * :margin - c.cost AS expected_profit
FROM based o
JOIN value v ON v.campaign_type = o.campaign_type
JOIN (SELECT 'email' AS channel, :cost_email AS cost UNION ALL SELECT 'sms', :cost_sms
      UNION ALL SELECT 'push', :cost_push UNION ALL SELECT 'social', :cost_social) c ON c.channel = o.channel

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
),
-- Each channel's contact cost from :channel_costs (channel=cost pairs); an offer on a channel without a
-- cost stops the run naming it.
priced AS (
  SELECT b.*,
    coalesce(CAST(element_at(str_to_map(:channel_costs, ',', '='), b.channel) AS DOUBLE),
             raise_error(concat('invalid input: channel ', b.channel, ' has no contact cost; fix: add ', b.channel, '=<cost> to --param channel_costs'))) AS cost
  FROM based b
)
SELECT
  o.customer_id, o.segment, o.campaign_type, o.channel, o.p_response, o.uplift,
  o.basis_value * v.revenue_per_response AS expected_revenue,
  o.cost,
  o.basis_value * v.revenue_per_response * :margin - o.cost AS expected_profit
FROM priced o
JOIN value v ON v.campaign_type = o.campaign_type

-- Every exposure with its segment, its treatment arm, what the contact cost (control rows were not
-- contacted and cost nothing; each channel's cost comes from :channel_costs, channel=cost pairs) and
-- its revenue. A contacted channel without a cost stops the run naming it.
WITH costs AS (SELECT str_to_map(:channel_costs, ',', '=') AS cost_of)
SELECT
  e.campaign_id, e.campaign_type, e.channel, e.test_group, coalesce(e.arm, 'treatment') AS arm,
  e.customer_id, e.responded,
  coalesce(s.segment, 'unsegmented') AS segment,
  coalesce(e.revenue, 0D) AS revenue,
  CASE WHEN e.test_group = 'control' THEN 0D
       ELSE coalesce(CAST(element_at(c.cost_of, e.channel) AS DOUBLE),
                     raise_error(concat('invalid input: channel ', e.channel, ' of campaign ', e.campaign_id, ' has no contact cost; ',
                                        'fix: add ', e.channel, '=<cost> to --param channel_costs'))) END AS cost
FROM campaigns e
CROSS JOIN costs c
LEFT JOIN customer_segments s ON s.customer_id = e.customer_id

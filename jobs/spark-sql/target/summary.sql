-- What the list costs and is expected to earn. An empty list (a budget of zero, or no offer that
-- pays for itself) gives customers = 0 and a null ROI.
SELECT
  :campaign_type AS campaign_type,
  :basis AS basis,
  :budget AS budget,
  count(*) AS customers,
  -- summed in decimals: 3,000 contacts at 0.10 cost 300, not 300.0000000000021
  coalesce(CAST(sum(CAST(cost AS DECIMAL(38, 9))) AS DOUBLE), 0D) AS cost,
  coalesce(sum(expected_revenue), 0D) AS expected_revenue,
  coalesce(sum(expected_profit), 0D) AS expected_profit,
  CASE WHEN sum(cost) > 0 THEN sum(expected_profit) / CAST(sum(CAST(cost AS DECIMAL(38, 9))) AS DOUBLE) END AS expected_roi,
  -- contacts per channel, in the campaigns' own channel names
  (SELECT map_from_entries(collect_list(struct(channel, n))) FROM (SELECT channel, count(*) AS n FROM target_list GROUP BY channel)) AS contacts
FROM target_list

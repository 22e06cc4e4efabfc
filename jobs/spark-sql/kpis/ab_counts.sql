-- Per campaign: exposures and responders in the contacted (treatment) and held-out (control) groups.
SELECT
  campaign_id,
  campaign_type,
  count_if(test_group = 'treatment') AS treatment_rows,
  count_if(test_group = 'treatment' AND responded) AS treatment_responders,
  count_if(test_group = 'control') AS control_rows,
  count_if(test_group = 'control' AND responded) AS control_responders
FROM exposures
GROUP BY campaign_id, campaign_type

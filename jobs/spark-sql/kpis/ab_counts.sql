-- Per campaign and treatment arm: exposures and responders contacted (treatment) and held out
-- (control). The arms of a campaign share its control group; a campaign with one arm has the arm
-- "treatment", and one without contacted rows still gets its row (the test then says why it has no lift).
WITH treated AS (
  SELECT campaign_id, campaign_type, arm, count(*) AS treatment_rows, count_if(responded) AS treatment_responders
  FROM exposures WHERE test_group = 'treatment'
  GROUP BY campaign_id, campaign_type, arm
),
held_out AS (
  SELECT campaign_id, campaign_type, count_if(test_group = 'control') AS control_rows,
         count_if(test_group = 'control' AND responded) AS control_responders
  FROM exposures
  GROUP BY campaign_id, campaign_type
)
SELECT
  h.campaign_id, h.campaign_type, coalesce(t.arm, 'treatment') AS arm,
  coalesce(t.treatment_rows, 0L) AS treatment_rows, coalesce(t.treatment_responders, 0L) AS treatment_responders,
  h.control_rows, h.control_responders
FROM held_out h
LEFT JOIN treated t ON t.campaign_id = h.campaign_id AND t.campaign_type = h.campaign_type

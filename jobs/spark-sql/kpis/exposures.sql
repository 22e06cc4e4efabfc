-- Every exposure with its segment, what the contact cost (control rows were not contacted and
-- cost nothing) and the margin its revenue earned.
SELECT
  e.campaign_id, e.campaign_type, e.channel, e.test_group, e.customer_id, e.responded,
  coalesce(s.segment, 'unsegmented') AS segment,
  coalesce(e.revenue, 0D) AS revenue,
  CASE WHEN e.test_group = 'control' THEN 0D
       ELSE CASE e.channel WHEN 'email' THEN :cost_email WHEN 'sms' THEN :cost_sms
                           WHEN 'push' THEN :cost_push ELSE :cost_social END END AS cost
FROM campaigns e
LEFT JOIN customer_segments s ON s.customer_id = e.customer_id

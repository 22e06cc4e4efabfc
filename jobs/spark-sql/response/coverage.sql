-- How many exposures reach the model, and why the others do not.
SELECT
  count(*) AS exposures,
  count_if(e.test_group = 'control') AS control,
  count_if(e.test_group = 'treatment' AND p.customer_id IS NULL) AS contacted_without_profile,
  count_if(e.test_group = 'treatment' AND p.customer_id IS NOT NULL) AS contacted_with_profile,
  count_if(e.test_group = 'treatment' AND p.customer_id IS NOT NULL AND e.responded) AS responders
FROM campaigns e
LEFT JOIN customer_profile p ON p.customer_id = e.customer_id

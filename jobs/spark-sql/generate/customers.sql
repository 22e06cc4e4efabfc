-- Customer attributes, with planted dirt: about 3% of ages and genders missing and 0.5% of
-- ages impossible (0 or 150).
SELECT
  customer_id,
  date_sub(:as_of, tenure_days) AS signup_date,
  CASE
    WHEN u_attr < 0.03 THEN NULL
    WHEN u_attr < 0.035 THEN CASE WHEN u_age < 0.5 THEN 0 ELSE 150 END
    ELSE 18 + CAST(u_age * 60 AS INT)
  END AS age,
  CASE
    WHEN u_attr > 0.97 THEN NULL
    WHEN u_age * 1000 % 10 < 4.8 THEN 'female'
    WHEN u_age * 1000 % 10 < 9.6 THEN 'male'
    ELSE 'other'
  END AS gender,
  element_at(array('north', 'south', 'east', 'west', 'central'), 1 + CAST(u_attr * 5 AS INT)) AS region,
  element_at(array('student', 'professional', 'manager', 'retired', 'self-employed', 'other'),
             1 + CAST(u_age * 6 AS INT)) AS occupation
FROM customers_latent

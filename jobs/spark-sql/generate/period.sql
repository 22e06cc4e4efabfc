-- The span of the generated data: the analysis jobs take their default dates from here, as they
-- take them from an ingest run's transactions. The history ends on as_of; the planted next period
-- (next_period) covers the days after it, so a label over that period is known until planted_until.
SELECT
  CAST(min(o.order_ts) AS DATE) AS first_day,
  CAST(:as_of AS DATE) AS as_of,
  (SELECT date_add(:as_of, max(days)) FROM next_period) AS planted_until
FROM order_lines o

-- The span of the generated history: the analysis jobs take their default snapshot date (as_of)
-- from here, as they take it from an ingest run's last transaction.
SELECT CAST(min(order_ts) AS DATE) AS first_day, CAST(:as_of AS DATE) AS as_of
FROM order_lines

-- The clean transactions up to the end of the cutoff day: what the features may know.
SELECT * FROM transactions_all
WHERE order_ts < CAST(date_add(:cutoff, 1) AS TIMESTAMP)

-- What each customer bought in the holdout window (the last :holdout_days days before the
-- snapshot): the items a recommendation made at the start of the window should have named.
SELECT DISTINCT customer_id, product_id
FROM clean_transactions
WHERE order_ts >= CAST(date_sub(:snapshot_date, :holdout_days) AS TIMESTAMP)
  AND order_ts < CAST(date_add(:snapshot_date, 1) AS TIMESTAMP)

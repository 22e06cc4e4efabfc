-- The lines no rule dropped; a missing category is imputed as 'unknown'.
SELECT order_id, line_no, customer_id, order_ts, product_id, coalesce(category, 'unknown') AS category,
       quantity, unit_price, payment_method, region, status
FROM flagged_transactions
WHERE drop_reason IS NULL

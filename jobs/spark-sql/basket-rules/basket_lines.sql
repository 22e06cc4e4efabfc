-- The products of every purchase order (cancellations and returns are already cleaned away).
SELECT order_id, product_id
FROM clean_transactions
WHERE product_id IS NOT NULL AND quantity > 0

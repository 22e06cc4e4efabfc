SELECT order_id, line_no, customer_id, order_ts, product_id, category, quantity, unit_price,
       payment_method, region, status
FROM transactions_labelled

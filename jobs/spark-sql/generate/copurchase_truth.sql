-- The planted co-purchase pairs of order_lines.sql: each is in 2% of the orders with two or more
-- lines; product_a is also bought alone in 0.2% of all orders, product_b never.
SELECT
  CAST(id + 1 AS INT) AS pair,
  format_string('P%05d', 400 + 2 * id) AS product_a,
  format_string('P%05d', 401 + 2 * id) AS product_b
FROM range(0, 5)

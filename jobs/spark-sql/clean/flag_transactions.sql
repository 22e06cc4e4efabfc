-- Every transaction line with one flag per cleaning rule and the first rule it breaks
-- (drop_reason; NULL means the line is kept). Rules, in order:
--   missing_customer  guest checkout: no customer to attribute the purchase to
--   cancelled         cancellation invoices (status cancelled, or an order id starting with C)
--   returned          return lines
--   invalid_quantity  quantity or unit price zero or negative (adjustments, bad debt)
--   missing_product   no product, or a code that is not a product (postage, fees)
--   future_date       dated after the snapshot date
--   outlier           quantity above :max_quantity or unit price above :max_unit_price
--   duplicate         an exact repeat of an earlier line (all columns but line_no)
WITH numbered AS (
  SELECT t.*,
    row_number() OVER (
      PARTITION BY order_id, customer_id, order_ts, product_id, category, quantity, unit_price,
                   payment_method, region, status
      ORDER BY line_no) AS copy_no
  FROM transactions t
),
flags AS (
  SELECT *,
    customer_id IS NULL AS r_missing_customer,
    status = 'cancelled' OR startswith(order_id, 'C') AS r_cancelled,
    status = 'returned' AS r_returned,
    quantity <= 0 OR unit_price <= 0 AS r_invalid_quantity,
    product_id IS NULL AS r_missing_product,
    order_ts >= CAST(date_add(:snapshot_date, 1) AS TIMESTAMP) AS r_future_date,
    quantity > :max_quantity OR unit_price > :max_unit_price AS r_outlier,
    copy_no > 1 AS r_duplicate
  FROM numbered
)
SELECT *,
  CASE
    WHEN r_missing_customer THEN 'missing_customer'
    WHEN r_cancelled THEN 'cancelled'
    WHEN r_returned THEN 'returned'
    WHEN r_invalid_quantity THEN 'invalid_quantity'
    WHEN r_missing_product THEN 'missing_product'
    WHEN r_future_date THEN 'future_date'
    WHEN r_outlier THEN 'outlier'
    WHEN r_duplicate THEN 'duplicate'
  END AS drop_reason
FROM flags

-- Genuine completed order lines. Orders are spread between signup and the last order
-- (as_of - recency_days); baskets are larger for high-value customers; 60% of lines come
-- from the customer's favourite category.
-- Planted co-purchase pairs (copurchase_truth): products P00400..P00409 are sold only as five
-- pairs (P00400 + P00401, P00402 + P00403, ...). 10% of orders with two or more lines hold one
-- pair (2% each) in their first two lines; a further 1% of orders hold the first product of a
-- pair alone. Every other line is a product below P00400.
WITH orders AS (
  SELECT
    c.id, c.customer_id, c.tenure_days, c.recency_days, c.n_orders, c.min_lines, c.span_lines,
    c.min_qty, c.span_qty, c.favourite_category,
    o.k,
    c.recency_days + CAST((c.n_orders - o.k) * (c.tenure_days - c.recency_days - 1) / greatest(c.n_orders - 1, 1) AS INT) AS days_before,
    (shiftrightunsigned(xxhash64(:seed, c.id, o.k, 'time'), 11) + 0.5) / 9007199254740992D AS u_time,
    (shiftrightunsigned(xxhash64(:seed, c.id, o.k, 'lines'), 11) + 0.5) / 9007199254740992D AS u_lines,
    (shiftrightunsigned(xxhash64(:seed, c.id, o.k, 'pay'), 11) + 0.5) / 9007199254740992D AS u_pay,
    (shiftrightunsigned(xxhash64(:seed, c.id, o.k, 'start'), 11) + 0.5) / 9007199254740992D AS u_start,
    (shiftrightunsigned(xxhash64(:seed, c.id, o.k, 'pair'), 11) + 0.5) / 9007199254740992D AS u_pair,
    (shiftrightunsigned(xxhash64(:seed, c.id, o.k, 'step'), 11) + 0.5) / 9007199254740992D AS u_step
  FROM customers_latent c
  LATERAL VIEW explode(sequence(1, c.n_orders)) o AS k
),
lines AS (
  SELECT
    o.*,
    l.line_no,
    (shiftrightunsigned(xxhash64(:seed, o.id, o.k, l.line_no, 'pick'), 11) + 0.5) / 9007199254740992D AS u_pick,
    (shiftrightunsigned(xxhash64(:seed, o.id, o.k, l.line_no, 'product'), 11) + 0.5) / 9007199254740992D AS u_product,
    (shiftrightunsigned(xxhash64(:seed, o.id, o.k, l.line_no, 'qty'), 11) + 0.5) / 9007199254740992D AS u_qty
  FROM (SELECT *, min_lines + CAST(u_lines * span_lines AS INT) AS n_lines FROM orders) o
  LATERAL VIEW explode(sequence(1, o.n_lines)) l AS line_no
)
SELECT
  format_string('%d', 1000000000 + l.id * 100 + l.k) AS order_id,
  CAST(l.line_no AS INT) AS line_no,
  l.customer_id,
  timestamp_seconds(unix_seconds(CAST(date_sub(:as_of, l.days_before) AS TIMESTAMP)) + CAST(28800 + l.u_time * 43200 AS BIGINT)) AS order_ts,
  p.product_id,
  p.category,
  CAST(l.min_qty + CAST(l.u_qty * l.span_qty AS INT) AS INT) AS quantity,
  p.list_price AS unit_price,
  CASE WHEN l.u_pay < 0.60 THEN 'card' WHEN l.u_pay < 0.85 THEN 'paypal' WHEN l.u_pay < 0.95 THEN 'voucher' ELSE 'invoice' END AS payment_method,
  element_at(array('north', 'south', 'east', 'west', 'central'), 1 + CAST(l.id % 5 AS INT)) AS region,
  'completed' AS status,
  l.id AS customer_index
FROM lines l
-- Product = category + 8 * slot, where the slot steps (mod 50) from line to line by a step drawn per
-- order from the 20 steps coprime to 50: the lines of one order never repeat a product, so an exact
-- repeat of a line is always a planted duplicate, and no two products are tied to each other beyond
-- sharing a category, except the planted pairs.
JOIN products p
  ON p.product_id = format_string('P%05d',
       CASE
         WHEN l.n_lines >= 2 AND l.u_pair < 0.10 AND l.line_no <= 2 THEN 400 + 2 * CAST(l.u_pair / 0.02 AS INT) + l.line_no - 1
         WHEN l.u_pair >= 0.10 AND l.u_pair < 0.11 AND l.line_no = 1 THEN 400 + 2 * CAST((l.u_pair - 0.10) / 0.002 AS INT)
         ELSE CASE WHEN l.u_pick < 0.6 THEN l.favourite_category ELSE CAST(l.u_product * 8 AS INT) END
              + 8 * ((CAST(l.u_start * 50 AS INT)
                      + element_at(array(1, 3, 7, 9, 11, 13, 17, 19, 21, 23, 27, 29, 31, 33, 37, 39, 41, 43, 47, 49), 1 + CAST(l.u_step * 20 AS INT))
                        * l.line_no) % 50)
       END)

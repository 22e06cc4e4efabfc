-- 410 products in 8 categories, list prices between about 2 and 60. P00400..P00409 are sold only in
-- the planted co-purchase pairs (see order_lines.sql).
SELECT
  format_string('P%05d', id) AS product_id,
  element_at(array('home', 'kitchen', 'garden', 'toys', 'stationery', 'fashion', 'beauty', 'seasonal'),
             1 + CAST(id % 8 AS INT)) AS category,
  format_string('product %d', id) AS name,
  round(2 + 58 * pow((shiftrightunsigned(xxhash64(:seed, id, 'price'), 11) + 0.5) / 9007199254740992D, 2), 2) AS list_price
FROM range(0, 410)

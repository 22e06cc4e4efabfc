-- Behaviour events spread over each customer's active period, with planted dirt:
-- 0.5% duplicated events, 0.2% dated after the as-of date, and 2% anonymous sessions.
WITH e AS (
  SELECT
    c.id, c.customer_id, c.tenure_days, c.recency_days, c.favourite_category, x.n,
    (shiftrightunsigned(xxhash64(:seed, c.id, x.n, 'when'), 11) + 0.5) / 9007199254740992D AS u_when,
    (shiftrightunsigned(xxhash64(:seed, c.id, x.n, 'type'), 11) + 0.5) / 9007199254740992D AS u_type,
    (shiftrightunsigned(xxhash64(:seed, c.id, x.n, 'item'), 11) + 0.5) / 9007199254740992D AS u_item,
    (shiftrightunsigned(xxhash64(:seed, c.id, x.n, 'dirt'), 11) + 0.5) / 9007199254740992D AS u_dirt
  FROM customers_latent c
  LATERAL VIEW explode(sequence(1, c.n_events)) x AS n
),
genuine AS (
  SELECT
    format_string('E%d-%d', id, n) AS event_id,
    customer_id,
    format_string('S%d-%d', id, n DIV 8) AS session_id,
    timestamp_seconds(unix_seconds(CAST(:as_of AS TIMESTAMP))
      - CAST((recency_days + u_when * (tenure_days - recency_days)) * 86400 AS BIGINT)) AS event_ts,
    CASE WHEN u_type < 0.70 THEN 'view' WHEN u_type < 0.85 THEN 'search' WHEN u_type < 0.95 THEN 'cart' ELSE 'favourite' END AS event_type,
    CASE WHEN u_type >= 0.70 AND u_type < 0.85 THEN NULL
         ELSE format_string('P%05d', CASE WHEN u_item < 0.6 THEN favourite_category + 8 * CAST(u_item * 83 AS INT) % 400
                                         ELSE CAST(u_item * 400 AS INT) END) END AS product_id,
    CASE WHEN u_type >= 0.70 AND u_type < 0.85
         THEN element_at(array('mug', 'lamp', 'gift set', 'candle', 'notebook', 'scarf'), 1 + CAST(u_item * 6 AS INT)) END AS query,
    u_dirt
  FROM e
)
SELECT event_id, customer_id, session_id, event_ts, event_type, product_id, query FROM genuine
UNION ALL
SELECT event_id, customer_id, session_id, event_ts, event_type, product_id, query FROM genuine WHERE u_dirt < 0.005
UNION ALL
SELECT concat(event_id, '-f'), customer_id, session_id, CAST(date_add(:as_of, 1 + CAST(u_dirt * 1000000 % 60 AS INT)) AS TIMESTAMP),
       event_type, product_id, query FROM genuine WHERE u_dirt >= 0.005 AND u_dirt < 0.007
UNION ALL
SELECT concat(event_id, '-a'), CAST(NULL AS STRING), concat(session_id, '-a'), event_ts, event_type, product_id, query
FROM genuine WHERE u_dirt >= 0.01 AND u_dirt < 0.03

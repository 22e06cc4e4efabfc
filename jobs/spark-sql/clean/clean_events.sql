SELECT event_id, customer_id, session_id, event_ts, event_type, product_id, query
FROM flagged_events
WHERE drop_reason IS NULL

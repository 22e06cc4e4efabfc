SELECT coalesce(drop_reason, 'kept') AS rule, count(*) AS dropped
FROM flagged_events
GROUP BY 1
ORDER BY 1

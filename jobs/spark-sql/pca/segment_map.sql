-- Each customer's place on the first two principal components, with the segment: the 2-D map of
-- the segments that a report draws.
SELECT p.customer_id, s.segment, p.pc1, p.pc2
FROM customer_projection p
JOIN customer_segments s ON s.customer_id = p.customer_id

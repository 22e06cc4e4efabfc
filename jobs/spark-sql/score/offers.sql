-- Every customer with every campaign type on every channel the campaigns used: the offers a campaign
-- could make, in the campaigns' own vocabulary.
SELECT p.*, t.campaign_type, ch.channel
FROM customer_profile p
CROSS JOIN (SELECT DISTINCT campaign_type FROM campaigns) t
CROSS JOIN (SELECT DISTINCT channel FROM campaigns) ch

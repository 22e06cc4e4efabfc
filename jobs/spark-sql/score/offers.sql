-- Every customer with every campaign type on every channel: the offers a campaign could make.
SELECT p.*, t.campaign_type, ch.channel
FROM customer_profile p
LATERAL VIEW explode(array('coupon', 'new_product', 'loyalty')) t AS campaign_type
LATERAL VIEW explode(array('email', 'sms', 'push', 'social')) ch AS channel

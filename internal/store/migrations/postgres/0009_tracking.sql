-- The customer tracking link: each order's tracking token, kept as is
-- (not hashed) because the order's trackingUrl is shown again on every
-- read by its vendor and customer; it grants only the redacted tracking
-- view. Orders made before this migration get a random token here: two
-- gen_random_uuid() (strong randomness, 244 bits) in hex; new orders'
-- are base64url.

ALTER TABLE orders ADD COLUMN tracking_token text;

UPDATE orders SET tracking_token = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
    WHERE tracking_token IS NULL;

CREATE UNIQUE INDEX orders_tracking_token ON orders (tracking_token);

-- The customer tracking link: each order's tracking token, kept as is
-- (not hashed) because the order's trackingUrl is shown again on every
-- read by its vendor and customer; it grants only the redacted tracking
-- view. Orders made before this migration get a random 128-bit token
-- here (hex; new orders' are base64url), so every order has one.

ALTER TABLE orders ADD COLUMN tracking_token TEXT;

UPDATE orders SET tracking_token = lower(hex(randomblob(16))) WHERE tracking_token IS NULL;

CREATE UNIQUE INDEX orders_tracking_token ON orders (tracking_token);

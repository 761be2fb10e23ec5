-- The unhappy paths (v2): a failed order's reason and time, the order's
-- dispatch strategy, its proof of delivery and PIN; and on the log, the
-- actor's reason and the driver an unassign or reject took the order from.

ALTER TABLE orders ADD COLUMN failure_reason text;
ALTER TABLE orders ADD COLUMN failed_at timestamptz;
ALTER TABLE orders ADD COLUMN dispatch_strategy text NOT NULL DEFAULT 'broadcast';
ALTER TABLE orders ADD COLUMN proof text;
ALTER TABLE orders ADD COLUMN pin text;

ALTER TABLE order_events ADD COLUMN reason text;
ALTER TABLE order_events ADD COLUMN from_driver_id text;

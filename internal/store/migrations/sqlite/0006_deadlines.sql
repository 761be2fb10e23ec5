-- Pending order deadlines (offer expiry, respondBy), kept with the order
-- so that any node can act on them when the node that set them is gone.
-- One per (order, kind): setting it again replaces it. A node claims a due
-- one by leasing it (lease_owner, lease_until) and deletes it when done;
-- a lease that lapses makes it claimable again. token changes on every
-- set, so completing an old claim cannot delete a newer deadline.

CREATE TABLE order_deadlines (
    tenant      TEXT    NOT NULL,
    order_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    due_at      TEXT    NOT NULL,
    round       INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    PRIMARY KEY (tenant, order_id, kind)
) STRICT;

-- ClaimDueDeadlines scans by due time.
CREATE INDEX order_deadlines_due ON order_deadlines (due_at);

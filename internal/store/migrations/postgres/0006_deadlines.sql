-- Pending order deadlines (offer expiry, respondBy), kept with the order
-- so that any node can act on them when the node that set them is gone.
-- One per (order, kind): setting it again replaces it. A node claims a due
-- one by leasing it (lease_owner, lease_until) and deletes it when done;
-- a lease that lapses makes it claimable again. token changes on every
-- set, so completing an old claim cannot delete a newer deadline.

CREATE TABLE order_deadlines (
    tenant      text        NOT NULL,
    order_id    text        NOT NULL,
    kind        text        NOT NULL,
    due_at      timestamptz NOT NULL,
    round       bigint      NOT NULL,
    payload     text        NOT NULL,
    token       text        NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    PRIMARY KEY (tenant, order_id, kind)
);

-- ClaimDueDeadlines scans by due time.
CREATE INDEX order_deadlines_due ON order_deadlines (due_at);

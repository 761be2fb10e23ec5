-- Webhook endpoints and their delivery log (internal/webhooks). pos is
-- the endpoint's cursor in the event log; lease_owner and lease_until say
-- which node sends for it (empty owner: none). vendor_id is empty for an
-- endpoint of the whole tenant. events is a comma-separated list.

CREATE TABLE webhook_endpoints (
    id              text        NOT NULL PRIMARY KEY,
    tenant          text        NOT NULL,
    vendor_id       text        NOT NULL,
    url             text        NOT NULL,
    events          text        NOT NULL,
    secret          text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('enabled', 'disabled')),
    pos             bigint      NOT NULL,
    failing_since   timestamptz,
    disabled_at     timestamptz,
    disabled_reason text        NOT NULL DEFAULT '',
    lease_owner     text        NOT NULL DEFAULT '',
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL
);

CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (tenant, vendor_id, created_at);

-- One row per message and endpoint, updated on every attempt.
CREATE TABLE webhook_deliveries (
    id              text        NOT NULL PRIMARY KEY,
    endpoint_id     text        NOT NULL,
    msg_id          text        NOT NULL,
    type            text        NOT NULL,
    order_id        text        NOT NULL,
    pos             bigint      NOT NULL,
    payload         text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL,
    response_status integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (endpoint_id, msg_id)
);

CREATE INDEX webhook_deliveries_latest ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_updated ON webhook_deliveries (updated_at);

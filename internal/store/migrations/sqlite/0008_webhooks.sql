-- Webhook endpoints and their delivery log (internal/webhooks). pos is
-- the endpoint's cursor in the event log; lease_owner and lease_until say
-- which node sends for it (empty owner: none). vendor_id is empty for an
-- endpoint of the whole tenant. events is a comma-separated list.

CREATE TABLE webhook_endpoints (
    id              TEXT    NOT NULL PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    vendor_id       TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    events          TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('enabled', 'disabled')),
    pos             INTEGER NOT NULL,
    failing_since   TEXT,
    disabled_at     TEXT,
    disabled_reason TEXT    NOT NULL DEFAULT '',
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     TEXT,
    created_at      TEXT    NOT NULL
) STRICT;

CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (tenant, vendor_id, created_at);

-- One row per message and endpoint, updated on every attempt.
CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,
    endpoint_id     TEXT    NOT NULL,
    msg_id          TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    pos             INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL,
    response_status INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    next_attempt_at TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (endpoint_id, msg_id)
) STRICT;

CREATE INDEX webhook_deliveries_latest ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_updated ON webhook_deliveries (updated_at);

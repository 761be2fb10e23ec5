-- Changes waiting to be published to the broker, written in the same
-- transaction as the change itself. seq is the publish order; rows are
-- kept, marked sent, until purged.

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL UNIQUE,
    tenant     TEXT    NOT NULL,
    order_id   TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    sent_at    TEXT
) STRICT;

CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;

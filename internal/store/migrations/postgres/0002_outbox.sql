-- Changes waiting to be published to the broker, written in the same
-- transaction as the change itself. seq is the publish order; rows are
-- kept, marked sent, until purged.

CREATE TABLE outbox (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   text        NOT NULL UNIQUE,
    tenant     text        NOT NULL,
    order_id   text        NOT NULL,
    payload    text        NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);

CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;

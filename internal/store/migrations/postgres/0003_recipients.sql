-- Durable per-recipient queues: how far each recipient (a user of a
-- tenant in one role) has acknowledged the shared event log, and what it
-- is subscribed to. Positions are uint64 in the program, stored as
-- bigint; they stay far below 2^63. user_id and sub_key avoid the
-- keywords user and key. kind and sub_key use the "C" collation so that
-- subscriptions are listed in the same bytewise order as on SQLite.

CREATE TABLE recipient_cursors (
    tenant     text        NOT NULL,
    role       text        NOT NULL,
    user_id    text        NOT NULL,
    pos        bigint      NOT NULL,
    seq        bigint      NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, role, user_id)
);

-- until_pos 0 means the subscription is open.
CREATE TABLE recipient_subscriptions (
    tenant     text             NOT NULL,
    role       text             NOT NULL,
    user_id    text             NOT NULL,
    kind       text COLLATE "C" NOT NULL,
    sub_key    text COLLATE "C" NOT NULL,
    from_pos   bigint           NOT NULL,
    until_pos  bigint           NOT NULL,
    updated_at timestamptz      NOT NULL,
    PRIMARY KEY (tenant, role, user_id, kind, sub_key)
);

-- PurgeSubscriptions looks only at ended subscriptions.
CREATE INDEX recipient_subscriptions_ended ON recipient_subscriptions (updated_at)
    WHERE until_pos <> 0;

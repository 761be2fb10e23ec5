-- Durable per-recipient queues: how far each recipient (a user of a
-- tenant in one role) has acknowledged the shared event log, and what it
-- is subscribed to. Positions are uint64 in the program, stored as
-- INTEGER (signed 64-bit); they stay far below 2^63. user_id and sub_key
-- avoid the keywords user and key.

CREATE TABLE recipient_cursors (
    tenant     TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    pos        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (tenant, role, user_id)
) STRICT;

-- until_pos 0 means the subscription is open.
CREATE TABLE recipient_subscriptions (
    tenant     TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    sub_key    TEXT    NOT NULL,
    from_pos   INTEGER NOT NULL,
    until_pos  INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (tenant, role, user_id, kind, sub_key)
) STRICT;

-- PurgeSubscriptions looks only at ended subscriptions.
CREATE INDEX recipient_subscriptions_ended ON recipient_subscriptions (updated_at)
    WHERE until_pos <> 0;

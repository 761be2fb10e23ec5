-- Orders and their event log. Times are UTC text in the fixed layout
-- 2006-01-02T15:04:05.000000Z, so they sort as they compare.

CREATE TABLE orders (
    tenant          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    vendor_id       TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    driver_id       TEXT,
    zone            TEXT,
    store           TEXT    NOT NULL,
    pickup_address  TEXT    NOT NULL,
    pickup_lat      REAL    NOT NULL,
    pickup_lng      REAL    NOT NULL,
    dropoff_address TEXT    NOT NULL,
    dropoff_lat     REAL    NOT NULL,
    dropoff_lng     REAL    NOT NULL,
    items           TEXT,
    status          TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    idempotency_key TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;

CREATE INDEX orders_tenant_status ON orders (tenant, status, id);
CREATE INDEX orders_tenant_vendor ON orders (tenant, vendor_id, id);
CREATE INDEX orders_tenant_customer ON orders (tenant, customer_id, id);
CREATE INDEX orders_tenant_driver ON orders (tenant, driver_id, id) WHERE driver_id IS NOT NULL;
CREATE UNIQUE INDEX orders_idempotency ON orders (tenant, vendor_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE order_events (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    order_id   TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    driver_id  TEXT,
    actor_role TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    UNIQUE (tenant, order_id, version),
    FOREIGN KEY (tenant, order_id) REFERENCES orders (tenant, id)
) STRICT;

-- Orders and their event log. Ids use the "C" collation so that UUIDv7
-- text sorts bytewise, that is by creation time, whatever the database's
-- default collation.

CREATE TABLE orders (
    tenant          text             NOT NULL,
    id              text COLLATE "C" NOT NULL,
    vendor_id       text             NOT NULL,
    customer_id     text             NOT NULL,
    driver_id       text,
    zone            text,
    store           text             NOT NULL,
    pickup_address  text             NOT NULL,
    pickup_lat      double precision NOT NULL,
    pickup_lng      double precision NOT NULL,
    dropoff_address text             NOT NULL,
    dropoff_lat     double precision NOT NULL,
    dropoff_lng     double precision NOT NULL,
    items           jsonb,
    status          text             NOT NULL,
    version         integer          NOT NULL,
    idempotency_key text,
    created_at      timestamptz      NOT NULL,
    updated_at      timestamptz      NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE INDEX orders_tenant_status ON orders (tenant, status, id);
CREATE INDEX orders_tenant_vendor ON orders (tenant, vendor_id, id);
CREATE INDEX orders_tenant_customer ON orders (tenant, customer_id, id);
CREATE INDEX orders_tenant_driver ON orders (tenant, driver_id, id) WHERE driver_id IS NOT NULL;
CREATE UNIQUE INDEX orders_idempotency ON orders (tenant, vendor_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE order_events (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    tenant     text             NOT NULL,
    order_id   text COLLATE "C" NOT NULL,
    version    integer          NOT NULL,
    status     text             NOT NULL,
    driver_id  text,
    actor_role text             NOT NULL,
    actor_id   text             NOT NULL,
    at         timestamptz      NOT NULL,
    UNIQUE (tenant, order_id, version),
    FOREIGN KEY (tenant, order_id) REFERENCES orders (tenant, id)
);

-- Driver duty: whether each driver of a tenant is on duty, durable so
-- that it survives reconnects and reaches every node. driver_id matches
-- orders.driver_id; the "C" collation lists drivers in the same bytewise
-- order as on SQLite.

CREATE TABLE drivers (
    tenant     text COLLATE "C" NOT NULL,
    driver_id  text COLLATE "C" NOT NULL,
    on_duty    boolean          NOT NULL,
    updated_at timestamptz      NOT NULL,
    PRIMARY KEY (tenant, driver_id)
);

-- A node starting loads every on-duty driver.
CREATE INDEX drivers_on_duty ON drivers (tenant, driver_id) WHERE on_duty;

-- Driver duty: whether each driver of a tenant is on duty, durable so
-- that it survives reconnects and reaches every node. driver_id avoids
-- nothing reserved; it matches orders.driver_id.

CREATE TABLE drivers (
    tenant     TEXT    NOT NULL,
    driver_id  TEXT    NOT NULL,
    on_duty    INTEGER NOT NULL CHECK (on_duty IN (0, 1)),
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (tenant, driver_id)
) STRICT;

-- A node starting loads every on-duty driver.
CREATE INDEX drivers_on_duty ON drivers (tenant, driver_id) WHERE on_duty = 1;

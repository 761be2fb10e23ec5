-- The tenant registry: organisations with their settings, the keys their
-- tokens must be signed with, and the API keys of their backends.
-- registry_generation counts every change, so that each node notices one
-- with a single cheap read and reloads its cache.

CREATE TABLE tenants (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL,  -- JSON, tenants.Settings
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE tenant_keys (
    tenant     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kid        TEXT NOT NULL,
    alg        TEXT NOT NULL CHECK (alg IN ('HS256', 'EdDSA', 'ES256', 'RS256')),
    material   TEXT NOT NULL,  -- the HS256 secret, or the public JWK's JSON
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, kid)
) STRICT;

CREATE TABLE api_keys (
    id         TEXT NOT NULL PRIMARY KEY,
    tenant     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    sub        TEXT NOT NULL,  -- the vendor user the key acts as
    hash       TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the key; the key is shown once
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE registry_generation (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL
) STRICT;
INSERT INTO registry_generation (id, gen) VALUES (1, 0);

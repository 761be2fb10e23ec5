-- The tenant registry: organisations with their settings, the keys their
-- tokens must be signed with, and the API keys of their backends.
-- registry_generation counts every change, so that each node notices one
-- with a single cheap read and reloads its cache.

CREATE TABLE tenants (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    name       text             NOT NULL,
    settings   text             NOT NULL,  -- JSON, tenants.Settings
    created_at timestamptz      NOT NULL,
    updated_at timestamptz      NOT NULL
);

CREATE TABLE tenant_keys (
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kid        text COLLATE "C" NOT NULL,
    alg        text             NOT NULL CHECK (alg IN ('HS256', 'EdDSA', 'ES256', 'RS256')),
    material   text             NOT NULL,  -- the HS256 secret, or the public JWK's JSON
    created_at timestamptz      NOT NULL,
    PRIMARY KEY (tenant, kid)
);

CREATE TABLE api_keys (
    id         text COLLATE "C" NOT NULL PRIMARY KEY,
    tenant     text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       text             NOT NULL,
    sub        text COLLATE "C" NOT NULL,  -- the vendor user the key acts as
    hash       text             NOT NULL UNIQUE,  -- hex SHA-256 of the key; the key is shown once
    created_at timestamptz      NOT NULL
);

CREATE TABLE registry_generation (
    id  integer NOT NULL PRIMARY KEY CHECK (id = 1),
    gen bigint  NOT NULL
);
INSERT INTO registry_generation (id, gen) VALUES (1, 0);

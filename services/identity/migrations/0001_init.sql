-- The identity service's schema. Times are microseconds since the Unix epoch; 0 means "never".

CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    manager_id TEXT NOT NULL DEFAULT '',
    -- Ids from the top of the tree down, e.g. `/d1/d7/`: a subtree is a path prefix.
    path TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX departments_sibling_name ON departments (parent_id, name);
CREATE INDEX departments_path ON departments (path);

CREATE TABLE employees (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    -- The login lower-cased: logins are unique without regard to case.
    login_key TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    department_id TEXT NOT NULL,
    manager_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_sign_ins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT NOT NULL,
    deactivated_at BIGINT NOT NULL DEFAULT 0,
    successor_id TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX employees_login ON employees (login_key);
CREATE INDEX employees_department ON employees (department_id);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- JSON array of permission patterns.
    permissions TEXT NOT NULL,
    -- JSON object: service name -> scope name.
    scopes TEXT NOT NULL,
    built_in BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (name);

CREATE TABLE employee_roles (
    employee_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    PRIMARY KEY (employee_id, role_id)
);
CREATE INDEX employee_roles_role ON employee_roles (role_id);

-- Refresh tokens, stored as SHA-256 hashes. A sign-in starts a family; each refresh uses one
-- token and issues the next in the family. A used token presented again revokes the family.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    family_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_employee ON refresh_tokens (employee_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Ed25519 signing keys. The current key has retired_at = 0; retired keys stay published until
-- every token they signed has expired.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT NOT NULL DEFAULT 0
);

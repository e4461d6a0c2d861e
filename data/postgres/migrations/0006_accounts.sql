-- Accounts: users, invitations, sessions, API tokens, password resets and
-- the audit log. A list of area codes (a coordinator's areas) or of scopes
-- (an API token's) is a text[] column: it is read with its row on every
-- authenticated request and never queried by element. E-mail addresses
-- use the "C" collation, so users list in the same order as on SQLite.
-- Users are deactivated, never deleted. Nothing here touches pledges.
CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email         text COLLATE "C" NOT NULL UNIQUE CHECK (email = lower(email)),
	name          text NOT NULL,
	role          text NOT NULL,
	areas         text[] NOT NULL DEFAULT '{}',
	provider      text NOT NULL DEFAULT '',
	active        boolean NOT NULL,
	password_hash text NOT NULL,
	created_at    timestamptz NOT NULL
);

-- Only the SHA-256 of a secret link is kept; created_by is NULL for the CLI.
CREATE TABLE invitations (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash text NOT NULL UNIQUE,
	email      text NOT NULL,
	name       text NOT NULL,
	role       text NOT NULL,
	areas      text[] NOT NULL DEFAULT '{}',
	provider   text NOT NULL DEFAULT '',
	created_by bigint REFERENCES users (id),
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	used_at    timestamptz
);

CREATE TABLE sessions (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	secret_hash  text NOT NULL UNIQUE,
	user_id      bigint NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	secret_hash  text NOT NULL UNIQUE,
	user_id      bigint NOT NULL REFERENCES users (id),
	name         text NOT NULL,
	scopes       text[] NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE password_resets (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	token_hash text NOT NULL UNIQUE,
	user_id    bigint NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	used_at    timestamptz
);

-- The audit log has no foreign keys: it records, it must never refuse to.
-- actor_id is 0 for the CLI; old and new are JSON text, '' when none.
CREATE TABLE audit_log (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL,
	actor_id  bigint NOT NULL,
	actor     text NOT NULL,
	action    text NOT NULL,
	area_code text COLLATE "C" NOT NULL,
	target    text NOT NULL,
	old       text NOT NULL,
	new       text NOT NULL
);
CREATE INDEX audit_log_area ON audit_log (area_code, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- Accounts: users, invitations, sessions, API tokens, password resets and
-- the audit log. Times are UTC text as formatTime writes them, so they
-- compare and sort as text. A list of area codes (a coordinator's areas)
-- or of scopes (an API token's) is a JSON array of strings in one column:
-- it is read with its row on every authenticated request and never
-- queried by element. Users are deactivated, never deleted.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	areas         TEXT NOT NULL DEFAULT '[]',
	provider      TEXT NOT NULL DEFAULT '',
	active        INTEGER NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL
);

-- Only the SHA-256 of a secret link is kept; created_by is NULL for the CLI.
CREATE TABLE invitations (
	id         INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	email      TEXT NOT NULL,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	areas      TEXT NOT NULL DEFAULT '[]',
	provider   TEXT NOT NULL DEFAULT '',
	created_by INTEGER REFERENCES users(id),
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT
);

CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	secret_hash  TEXT NOT NULL UNIQUE,
	user_id      INTEGER NOT NULL REFERENCES users(id),
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	secret_hash  TEXT NOT NULL UNIQUE,
	user_id      INTEGER NOT NULL REFERENCES users(id),
	name         TEXT NOT NULL,
	scopes       TEXT NOT NULL DEFAULT '[]',
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE password_resets (
	id         INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT
);

-- The audit log has no foreign keys: it records, it must never refuse to.
-- actor_id is 0 for the CLI; old and new are JSON, '' when none.
CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	actor_id  INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	area_code TEXT NOT NULL,
	target    TEXT NOT NULL,
	old       TEXT NOT NULL,
	new       TEXT NOT NULL
);
CREATE INDEX audit_log_area ON audit_log(area_code, at);
CREATE INDEX audit_log_at ON audit_log(at);

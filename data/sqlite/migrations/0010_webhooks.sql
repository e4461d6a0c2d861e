-- Webhook endpoints of providers' companies and their delivery logs.
-- Secrets are sealed (AES-GCM, base64) by the service, never stored in
-- clear; previous_secret signs beside secret until previous_until, the
-- overlap after a rotation. events is a JSON array of event names.
-- failing_since is the first failure since the last success: an endpoint
-- failing for 5 days is disabled (active = 0, disabled_at set).
CREATE TABLE webhooks (
	id              INTEGER PRIMARY KEY,
	company         TEXT NOT NULL,
	created_by      INTEGER REFERENCES users(id),
	url             TEXT NOT NULL,
	events          TEXT NOT NULL DEFAULT '[]',
	active          INTEGER NOT NULL DEFAULT 1,
	created_at      TEXT NOT NULL,
	disabled_at     TEXT,
	failing_since   TEXT,
	secret          TEXT NOT NULL,
	previous_secret TEXT NOT NULL DEFAULT '',
	previous_until  TEXT
);
CREATE INDEX webhooks_company ON webhooks(company);

-- One row per attempt; event_id is the outbox event (kind
-- webhook.delivery) attempted, which a replay copies.
CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY,
	webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	event_id    INTEGER NOT NULL,
	message_id  TEXT NOT NULL,
	type        TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	at          TEXT NOT NULL,
	status_code INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL,
	excerpt     TEXT NOT NULL,
	error_class TEXT NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id, id);

-- Webhook endpoints of providers' companies and their delivery logs.
-- Secrets are sealed (AES-GCM, base64) by the service, never stored in
-- clear; previous_secret signs beside secret until previous_until, the
-- overlap after a rotation. failing_since is the first failure since the
-- last success: an endpoint failing for 5 days is disabled.
CREATE TABLE webhooks (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	company         text NOT NULL,
	created_by      bigint REFERENCES users(id),
	url             text NOT NULL,
	events          text[] NOT NULL DEFAULT '{}',
	active          boolean NOT NULL DEFAULT true,
	created_at      timestamptz NOT NULL,
	disabled_at     timestamptz,
	failing_since   timestamptz,
	secret          text NOT NULL,
	previous_secret text NOT NULL DEFAULT '',
	previous_until  timestamptz
);
CREATE INDEX webhooks_company ON webhooks (company);
CREATE INDEX webhooks_events ON webhooks USING gin (events) WHERE active;

-- One row per attempt; event_id is the outbox event (kind
-- webhook.delivery) attempted, which a replay copies.
CREATE TABLE webhook_attempts (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	webhook_id  bigint NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	event_id    bigint NOT NULL,
	message_id  text NOT NULL,
	type        text NOT NULL,
	attempt     integer NOT NULL,
	at          timestamptz NOT NULL,
	status_code integer NOT NULL,
	duration_ms integer NOT NULL,
	excerpt     text NOT NULL,
	error_class text NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);

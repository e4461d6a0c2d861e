-- Server secrets that every instance shares (the CSRF token key, the key of
-- request fingerprints), made once at random by the first instance that
-- needs one.
CREATE TABLE secrets (
	name  text PRIMARY KEY,
	value bytea NOT NULL
);
-- Erasure is complete: a pledge that is no longer active keeps nothing
-- derived from its contact details (its fingerprint was an unsalted hash).
UPDATE pledges SET request_hash = '' WHERE status <> 'active';

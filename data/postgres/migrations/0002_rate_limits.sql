-- Hits per key in fixed time windows, so rate limits hold across every
-- instance. Keys are hashes, never client addresses.
CREATE TABLE rate_limits (
	key          text NOT NULL,
	window_start timestamptz NOT NULL,
	hits         integer NOT NULL,
	PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- Hits per key in fixed time windows, so rate limits hold across instances.
-- Keys are hashes, never client addresses.
CREATE TABLE rate_limits (
	key          TEXT NOT NULL,
	window_start TEXT NOT NULL,
	hits         INTEGER NOT NULL,
	PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
CREATE INDEX rate_limits_window ON rate_limits(window_start);

-- The coordinators' workbench (issue 14), as on SQLite (its
-- 0014_workbench.sql): subsidy rule sets and powers of attorney.
CREATE TABLE subsidy_rules (
	name                    text COLLATE "C" PRIMARY KEY,
	title                   text NOT NULL,
	valid_from              date NOT NULL,
	min_own_payment         bigint NOT NULL,
	max_subsidy_per_address bigint NOT NULL
);
INSERT INTO subsidy_rules VALUES ('example-2026', 'Example rules 2026 (replace with the scheme''s own)', '2026-01-01', 250000, 2000000);

CREATE TABLE powers_of_attorney (
	pledge_id bigint PRIMARY KEY,
	given_at  timestamptz NOT NULL,
	source    text NOT NULL
);

-- The coordinators' workbench (issue 14): subsidy rule sets, named and
-- dated because the scheme's rules change every year, and residents'
-- powers of attorney, a record of their own since they may come after the
-- pledge (from the manage page, or on paper). The seeded rule set is an
-- example with the figures of DefaultCostParams, not the official rules.
CREATE TABLE subsidy_rules (
	name                    TEXT PRIMARY KEY,
	title                   TEXT NOT NULL,
	valid_from              TEXT NOT NULL,
	min_own_payment         INTEGER NOT NULL,
	max_subsidy_per_address INTEGER NOT NULL
);
INSERT INTO subsidy_rules VALUES ('example-2026', 'Example rules 2026 (replace with the scheme''s own)', '2026-01-01', 250000, 2000000);

CREATE TABLE powers_of_attorney (
	pledge_id INTEGER PRIMARY KEY REFERENCES pledges(id),
	given_at  TEXT NOT NULL,
	source    TEXT NOT NULL
);

-- Deadline extensions, announced on the area's public page with the old
-- and the new date.
CREATE TABLE deadline_extensions (
	id        INTEGER PRIMARY KEY,
	area_id   INTEGER NOT NULL REFERENCES areas(id),
	from_date TEXT NOT NULL,
	to_date   TEXT NOT NULL,
	at        TEXT NOT NULL
);
CREATE INDEX deadline_extensions_area ON deadline_extensions(area_id, id);

-- How a pledge entered by a coordinator came: paper, phone or door, the
-- sheet or batch, and who entered it. Online pledges have no row.
CREATE TABLE pledge_entries (
	pledge_id  INTEGER PRIMARY KEY REFERENCES pledges(id),
	source     TEXT NOT NULL,
	batch      TEXT NOT NULL,
	entered_by TEXT NOT NULL,
	at         TEXT NOT NULL
);

package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

var _ pledge.CostStore = (*Store)(nil)

// CostParams returns the parameters stored for an area, or ENOTFOUND.
func (s *Store) CostParams(ctx context.Context, code string) (pledge.CostParams, error) {
	var p pledge.CostParams
	var lon, lat *float64
	var split string
	err := s.pool.QueryRow(ctx, `SELECT c.pop_lon, c.pop_lat, c.detour, c.trench_per_m, c.drop_per_m, c.per_connection, c.fixed,
			c.state_subsidy_avg_cap, c.municipal_topup, c.provider_contribution, c.min_own_payment, c.community_fund,
			c.split_rule, c.household_cap
		FROM cost_params c JOIN areas a ON a.id = c.area_id WHERE a.code = $1`, code).Scan(
		&lon, &lat, &p.Detour, &p.TrenchPerM, &p.DropPerM, &p.PerConnection, &p.Fixed,
		&p.StateSubsidyAvgCap, &p.MunicipalTopUp, &p.ProviderContribution, &p.MinOwnPayment, &p.CommunityFund,
		&split, &p.HouseholdCap)
	if err == pgx.ErrNoRows {
		return p, pledge.Errorf(pledge.ENOTFOUND, "no cost parameters for area %q", code)
	}
	if err != nil {
		return p, formatError(err)
	}
	if lon != nil && lat != nil {
		p.POP = &orb.Point{*lon, *lat}
	}
	p.Split = pledge.SplitRule(split)
	return p, nil
}

// SetCostParams stores an area's parameters, replacing any.
func (s *Store) SetCostParams(ctx context.Context, code string, p pledge.CostParams) error {
	return setCostParams(ctx, s.pool, code, p)
}

// setCostParams is SetCostParams on db, which may be a transaction.
func setCostParams(ctx context.Context, db execer, code string, p pledge.CostParams) error {
	var lon, lat *float64
	if p.POP != nil {
		lon, lat = &p.POP[0], &p.POP[1]
	}
	tag, err := db.Exec(ctx, `INSERT INTO cost_params (area_id, pop_lon, pop_lat, detour, trench_per_m, drop_per_m, per_connection, fixed,
			state_subsidy_avg_cap, municipal_topup, provider_contribution, min_own_payment, community_fund, split_rule, household_cap)
		SELECT id, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM areas WHERE code = $15
		ON CONFLICT (area_id) DO UPDATE SET pop_lon = excluded.pop_lon, pop_lat = excluded.pop_lat, detour = excluded.detour,
			trench_per_m = excluded.trench_per_m, drop_per_m = excluded.drop_per_m, per_connection = excluded.per_connection,
			fixed = excluded.fixed, state_subsidy_avg_cap = excluded.state_subsidy_avg_cap, municipal_topup = excluded.municipal_topup,
			provider_contribution = excluded.provider_contribution, min_own_payment = excluded.min_own_payment,
			community_fund = excluded.community_fund, split_rule = excluded.split_rule, household_cap = excluded.household_cap`,
		lon, lat, p.Detour, p.TrenchPerM, p.DropPerM, p.PerConnection, p.Fixed,
		p.StateSubsidyAvgCap, p.MunicipalTopUp, p.ProviderContribution, p.MinOwnPayment, p.CommunityFund,
		string(p.Split), p.HouseholdCap, code)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return nil
}

// ImportRoads adds the lines not stored yet, in one transaction: COPY into
// a temporary table, then one INSERT that skips known lines and keeps the
// order of the file.
func (s *Store) ImportRoads(ctx context.Context, lines []orb.LineString) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return formatError(err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_roads (seq integer NOT NULL, geom geometry NOT NULL, geometry_hash bytea NOT NULL) ON COMMIT DROP`); err != nil {
			return formatError(err)
		}
		rows := make([][]any, len(lines))
		for i, l := range lines {
			blob, err := wkb.Marshal(l)
			if err != nil {
				return fmt.Errorf("road %d: %w", i+1, err)
			}
			// The hash of the WKB identifies a line by its exact coordinates
			// (the same as the SQLite store's).
			h := sha256.Sum256(blob)
			rows[i] = []any{int32(i), lineString{&lines[i]}, h[:16]}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_roads"}, []string{"seq", "geom", "geometry_hash"}, pgx.CopyFromRows(rows)); err != nil {
			return formatError(err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO roads (geom, geometry_hash) SELECT geom, geometry_hash FROM import_roads ORDER BY seq
			ON CONFLICT (geometry_hash) DO NOTHING`)
		if err != nil {
			return formatError(err)
		}
		added = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// Roads returns the lines whose bounds intersect bound, in the order they
// were added. && compares float4 boxes rounded outwards: it never misses a
// line and may add one just outside, as the interface allows.
func (s *Store) Roads(ctx context.Context, bound orb.Bound) ([]orb.LineString, error) {
	rows, err := s.pool.Query(ctx, `SELECT geom FROM roads WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY id`,
		bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1])
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	lines := []orb.LineString{}
	for rows.Next() {
		var l orb.LineString
		if err := rows.Scan(lineString{&l}); err != nil {
			return nil, formatError(err)
		}
		lines = append(lines, l)
	}
	return lines, formatError(rows.Err())
}

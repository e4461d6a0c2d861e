package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"

	"github.com/kommunity/kommunity/pledge"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

var _ pledge.CostStore = (*Store)(nil)

// CostParams returns the parameters stored for an area, or ENOTFOUND.
func (s *Store) CostParams(ctx context.Context, code string) (pledge.CostParams, error) {
	var p pledge.CostParams
	var lon, lat sql.NullFloat64
	var split string
	err := s.db.QueryRowContext(ctx, `SELECT c.pop_lon, c.pop_lat, c.detour, c.trench_per_m, c.drop_per_m, c.per_connection, c.fixed,
			c.state_subsidy_avg_cap, c.municipal_topup, c.provider_contribution, c.min_own_payment, c.community_fund,
			c.split_rule, c.household_cap
		FROM cost_params c JOIN areas a ON a.id = c.area_id WHERE a.code = ?`, code).Scan(
		&lon, &lat, &p.Detour, &p.TrenchPerM, &p.DropPerM, &p.PerConnection, &p.Fixed,
		&p.StateSubsidyAvgCap, &p.MunicipalTopUp, &p.ProviderContribution, &p.MinOwnPayment, &p.CommunityFund,
		&split, &p.HouseholdCap)
	if err == sql.ErrNoRows {
		return p, pledge.Errorf(pledge.ENOTFOUND, "no cost parameters for area %q", code)
	}
	if err != nil {
		return p, formatError(err)
	}
	if lon.Valid && lat.Valid {
		p.POP = &orb.Point{lon.Float64, lat.Float64}
	}
	p.Split = pledge.SplitRule(split)
	return p, nil
}

// SetCostParams stores an area's parameters, replacing any.
func (s *Store) SetCostParams(ctx context.Context, code string, p pledge.CostParams) error {
	return setCostParams(ctx, s.db, code, p)
}

// setCostParams is SetCostParams on db, which may be a transaction.
func setCostParams(ctx context.Context, db execer, code string, p pledge.CostParams) error {
	var lon, lat any
	if p.POP != nil {
		lon, lat = p.POP[0], p.POP[1]
	}
	res, err := db.ExecContext(ctx, `INSERT INTO cost_params (area_id, pop_lon, pop_lat, detour, trench_per_m, drop_per_m, per_connection, fixed,
			state_subsidy_avg_cap, municipal_topup, provider_contribution, min_own_payment, community_fund, split_rule, household_cap)
		SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM areas WHERE code = ?
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
	if n, _ := res.RowsAffected(); n == 0 {
		return pledge.Errorf(pledge.ENOTFOUND, "no area with code %q", code)
	}
	return nil
}

// ImportRoads adds the lines not stored yet, with their bounds in the
// R*Tree, in one transaction.
func (s *Store) ImportRoads(ctx context.Context, lines []orb.LineString) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO roads (geometry, geometry_hash) VALUES (?, ?) ON CONFLICT (geometry_hash) DO NOTHING`)
		if err != nil {
			return formatError(err)
		}
		defer ins.Close()
		box, err := tx.PrepareContext(ctx, `INSERT INTO roads_rtree (id, min_lon, max_lon, min_lat, max_lat) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return formatError(err)
		}
		defer box.Close()
		for i, l := range lines {
			blob, err := wkb.Marshal(l)
			if err != nil {
				return fmt.Errorf("road %d: %w", i+1, err)
			}
			// The hash of the WKB identifies a line by its exact coordinates.
			h := sha256.Sum256(blob)
			res, err := ins.ExecContext(ctx, blob, h[:16])
			if err != nil {
				return formatError(err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			id, err := res.LastInsertId()
			if err != nil {
				return formatError(err)
			}
			b := l.Bound()
			if _, err := box.ExecContext(ctx, id, b.Min[0], b.Max[0], b.Min[1], b.Max[1]); err != nil {
				return formatError(err)
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// Roads returns the lines whose bounds intersect bound. The R*Tree keeps
// 32-bit bounds rounded outwards, so it never misses a line.
func (s *Store) Roads(ctx context.Context, bound orb.Bound) ([]orb.LineString, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.geometry FROM roads_rtree t JOIN roads r ON r.id = t.id
		WHERE t.max_lon >= ? AND t.min_lon <= ? AND t.max_lat >= ? AND t.min_lat <= ? ORDER BY r.id`,
		bound.Min[0], bound.Max[0], bound.Min[1], bound.Max[1])
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	lines := []orb.LineString{}
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, formatError(err)
		}
		g, err := wkb.Unmarshal(blob)
		if err != nil {
			return nil, fmt.Errorf("road geometry: %w", err)
		}
		l, ok := g.(orb.LineString)
		if !ok {
			return nil, fmt.Errorf("road geometry is %T", g)
		}
		lines = append(lines, l)
	}
	return lines, formatError(rows.Err())
}

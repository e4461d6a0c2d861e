package postgres

import (
	"context"

	"github.com/kommunity/kommunity/pledge"
)

// Exec runs one statement on the store's pool, for tests of error
// translation.
func Exec(s *Store, ctx context.Context, sql string) error {
	_, err := s.pool.Exec(ctx, sql)
	return formatError(err)
}

// CreatePledges stores pledges as one batch, as concurrent CreatePledge
// calls are when they meet in the queue, and returns each one's error.
func CreatePledges(s *Store, ps []*pledge.Pledge, decide []pledge.Decider) []error {
	calls := make([]*call[write], len(ps))
	for i, p := range ps {
		calls[i] = newCall(write{pledge: &pledgeCall{p: p, decide: decide[i]}})
	}
	s.runWrites(calls)
	errs := make([]error, len(ps))
	for i, c := range calls {
		errs[i] = c.err
	}
	return errs
}

// QueryRow runs one query on the store's pool and scans its row into dest.
func QueryRow(s *Store, ctx context.Context, sql string, dest ...any) error {
	return formatError(s.pool.QueryRow(ctx, sql).Scan(dest...))
}

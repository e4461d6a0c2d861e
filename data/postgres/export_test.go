package postgres

import "context"

// Exec runs one statement on the store's pool, for tests of error
// translation.
func Exec(s *Store, ctx context.Context, sql string) error {
	_, err := s.pool.Exec(ctx, sql)
	return formatError(err)
}

package postgres

import (
	"context"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.SecretStore = (*Store)(nil)

// Secret returns the secret called name, storing value first if none is.
// The no-op update makes RETURNING give the row that won a race.
func (s *Store) Secret(ctx context.Context, name string, value []byte) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = secrets.value RETURNING value`, name, value).Scan(&v)
	return v, formatError(err)
}

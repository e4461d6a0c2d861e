package sqlite

import (
	"context"

	"github.com/kommunity/kommunity/pledge"
)

var _ pledge.SecretStore = (*Store)(nil)

// Secret returns the secret called name, storing value first if none is.
func (s *Store) Secret(ctx context.Context, name string, value []byte) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = value RETURNING value`, name, value).Scan(&v)
	return v, formatError(err)
}

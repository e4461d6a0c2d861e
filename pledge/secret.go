package pledge

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// SecretStore keeps server secrets that every instance shares. Both stores
// implement it.
type SecretStore interface {
	// Secret returns the secret called name, first storing value as it
	// when there is none yet. Concurrent first calls all get the value
	// that won.
	Secret(ctx context.Context, name string, value []byte) ([]byte, error)
}

// Secret names.
const (
	SecretCSRF        = "csrf"        // signs the pages' CSRF tokens
	SecretFingerprint = "fingerprint" // keys request fingerprints and idempotency keys
)

// secrets caches the store's secrets: they never change once made.
type secrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Secret returns the shared secret called name, making it (32 random
// bytes) on first use. Returns EUNAVAILABLE when the store cannot be
// reached.
func (s *Service) Secret(ctx context.Context, name string) ([]byte, error) {
	s.secrets.mu.Lock()
	defer s.secrets.mu.Unlock()
	if v, ok := s.secrets.m[name]; ok {
		return v, nil
	}
	v := make([]byte, 32)
	_, _ = rand.Read(v)
	v, err := s.store.Secret(ctx, name, v)
	if err != nil {
		return nil, err
	}
	if s.secrets.m == nil {
		s.secrets.m = map[string][]byte{}
	}
	s.secrets.m[name] = v
	return v, nil
}

// keyedHash is the hex HMAC-SHA256 of parts under the fingerprint secret.
// Unlike a plain hash, it cannot be used to confirm a guess about what was
// hashed without the secret.
func (s *Service) keyedHash(ctx context.Context, parts ...string) (string, error) {
	key, err := s.Secret(ctx, SecretFingerprint)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)), nil
}

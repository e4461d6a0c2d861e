package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kommunity/kommunity/data/sqlite"
)

// Prewarm reads the database file and its write-ahead log whole, nothing
// when they are over the limit, and stops when its context ends.
func TestPrewarm(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var want int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err) // the migrations wrote both
		}
		want += fi.Size()
	}
	if want == 0 {
		t.Fatal("empty database files")
	}
	if n, err := st.Prewarm(ctx, 1<<40); err != nil || n != want {
		t.Errorf("Prewarm read %d bytes (%v), want the files' %d", n, err, want)
	}
	if n, err := st.Prewarm(ctx, want-1); err != nil || n != 0 {
		t.Errorf("over the limit: Prewarm read %d bytes (%v), want none", n, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n, err := st.Prewarm(cancelled, 1<<40); !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("cancelled: Prewarm read %d bytes, %v", n, err)
	}
}

package sqlite_test

import (
	"context"
	"testing"
	"time"
)

func TestCountHit(t *testing.T) {
	ctx := context.Background()
	st := MustOpenStore(t)
	w1 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w2 := w1.Add(10 * time.Minute)
	for i, c := range []struct {
		key    string
		window time.Time
		want   int
	}{
		{"a", w1, 1}, {"a", w1, 2}, {"b", w1, 1}, {"a", w1, 3}, {"a", w2, 1}, {"a", w2.Add(48 * time.Hour), 1},
	} {
		got, err := st.CountHit(ctx, c.key, c.window)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("hit %d (%s): got %d, want %d", i, c.key, got, c.want)
		}
	}
	// Two days on, the old windows are forgotten: w1 starts afresh.
	if got, err := st.CountHit(ctx, "a", w1); err != nil || got != 1 {
		t.Errorf("old window after cleanup: got %d, %v", got, err)
	}
}

package logbuf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the flusher writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWriterFlushesOnTimeAndOnClose(t *testing.T) {
	var out syncBuffer
	w := New(&out, 20*time.Millisecond)
	fmt.Fprintln(w, "first")
	if out.String() != "" {
		t.Fatal("written through at once; want buffered")
	}
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "first\n" {
		if time.Now().After(deadline) {
			t.Fatalf("not flushed after 2 s: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}

	w = New(&out, time.Hour)
	fmt.Fprintln(w, "second")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "first\nsecond\n" {
		t.Fatalf("after Close: %q", got)
	}
	if _, err := fmt.Fprintln(w, "late"); err == nil {
		t.Error("a write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Concurrent lines, more than the buffer holds, all arrive whole.
func TestWriterKeepsLinesWhole(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Millisecond)
	var wg sync.WaitGroup
	line := strings.Repeat("x", 1000)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "%d %d %s\n", g, i, line)
			}
		}()
	}
	wg.Wait()
	w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("%d lines, want %d", len(lines), 8*200)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var g, i int
		var rest string
		if _, err := fmt.Sscanf(l, "%d %d %s", &g, &i, &rest); err != nil || rest != line {
			t.Fatalf("broken line %.40q...", l)
		}
		seen[fmt.Sprint(g, i)] = true
	}
	if len(seen) != 8*200 {
		t.Fatalf("%d distinct lines, want %d", len(seen), 8*200)
	}
}

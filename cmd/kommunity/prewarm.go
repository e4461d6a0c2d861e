package main

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// prewarmer is a store that can read its files into the page cache
// (sqlite.Store); PostgreSQL keeps its own buffers.
type prewarmer interface {
	Prewarm(ctx context.Context, maxBytes int64) (int64, error)
}

// prewarm reads st's files in the background, up to a quarter of the
// machine's memory, and logs how much it read and how long it took.
func prewarm(ctx context.Context, st pledge.Store, log *slog.Logger) {
	p, ok := st.(prewarmer)
	if !ok {
		return
	}
	limit := memTotal() / 4
	go func() {
		start := time.Now()
		n, err := p.Prewarm(ctx, limit)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("prewarm: reading the database file failed", "err", err)
		case err == nil && n == 0:
			log.Info("prewarm: skipped, the database file is over a quarter of the memory or empty", "limit_mb", limit>>20)
		case err == nil:
			log.Info("prewarm: database file read into the page cache", "mb", n>>20, "seconds", time.Since(start).Round(10*time.Millisecond).Seconds())
		}
	}()
}

// memTotal is the machine's memory from /proc/meminfo, or 4 GiB where that
// is not to be read.
func memTotal() int64 {
	const fallback = 4 << 30
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// MemTotal:       24567890 kB
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return fallback
}

package postgres

import (
	"context"
	"sync"
	"sync/atomic"
)

// batcher gathers concurrent calls into batches that one function runs
// together. A call waits in the queue while up to workers batches are in
// flight; a free worker takes everything waiting (at most max) at once. So
// under light load a batch is one call and costs what a call alone would,
// and under heavy load the calls that arrive during one batch's round trips
// form the next: what the database then pays once per statement and once
// per commit is shared by many calls, without waiting to fill a batch.
type batcher[T any] struct {
	workers int
	max     int
	run     func([]*call[T]) // sets each call's err or finishes it

	mu      sync.Mutex
	queue   []*call[T]
	running int
}

func newBatcher[T any](workers, max int, run func([]*call[T])) *batcher[T] {
	return &batcher[T]{workers: workers, max: max, run: run}
}

// call is one caller's part of a batch.
type call[T any] struct {
	in        T
	err       error
	done      chan struct{}
	finished  bool        // done is closed; only the worker touches it
	abandoned atomic.Bool // the caller has gone; not yet taken, it is dropped
}

func newCall[T any](in T) *call[T] { return &call[T]{in: in, done: make(chan struct{})} }

// finish hands the call's outcome to its caller. A batch may finish some of
// its calls before it has run to the end; finishing twice is a no-op.
func (c *call[T]) finish(err error) {
	if !c.finished {
		c.err, c.finished = err, true
		close(c.done)
	}
}

// do queues in and waits until its batch has run, or until ctx ends. A call
// whose caller gave up before a worker took it is never run; one already
// running finishes without its caller.
func (b *batcher[T]) do(ctx context.Context, in T) error {
	c := newCall(in)
	b.mu.Lock()
	b.queue = append(b.queue, c)
	start := b.running < b.workers
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go b.work()
	}
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		c.abandoned.Store(true)
		select {
		case <-c.done:
			return c.err
		default:
			return formatError(ctx.Err())
		}
	}
}

// work runs batches until the queue is empty.
func (b *batcher[T]) work() {
	for {
		batch := b.take()
		if batch == nil {
			return
		}
		b.run(batch)
		for _, c := range batch {
			c.finish(c.err)
		}
	}
}

// take removes up to max waiting calls from the queue, skipping abandoned
// ones; with none left it retires the worker and returns nil.
func (b *batcher[T]) take() []*call[T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	var batch []*call[T]
	for len(b.queue) > 0 && len(batch) < b.max {
		c := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		if c.abandoned.Load() {
			c.finish(nil)
			continue
		}
		batch = append(batch, c)
	}
	if len(batch) == 0 {
		b.running--
		return nil
	}
	return batch
}

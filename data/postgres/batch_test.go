package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every call runs exactly once, in batches of at most max, with at most
// workers batches at a time; concurrent calls share batches; a call whose
// caller gave up before its batch started never runs.
func TestBatcher(t *testing.T) {
	var inFlight, maxInFlight, batches atomic.Int32
	ran := make([]atomic.Int32, 200)
	gate := make(chan struct{})
	b := newBatcher(2, 16, func(calls []*call[int]) {
		n := inFlight.Add(1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		batches.Add(1)
		if len(calls) > 16 {
			t.Errorf("batch of %d, max 16", len(calls))
		}
		<-gate
		for _, c := range calls {
			ran[c.in].Add(1)
			if c.in%10 == 0 {
				c.err = context.Canceled // any error reaches its caller
			}
		}
		inFlight.Add(-1)
	})
	var wg sync.WaitGroup
	errs := make([]error, len(ran))
	for i := range ran {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.do(context.Background(), i)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the calls queue behind the first batches
	close(gate)
	wg.Wait()
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Errorf("call %d ran %d times", i, n)
		}
		if (errs[i] != nil) != (i%10 == 0) {
			t.Errorf("call %d: %v", i, errs[i])
		}
	}
	if m := maxInFlight.Load(); m > 2 {
		t.Errorf("%d batches at once, max 2", m)
	}
	if n := batches.Load(); n >= int32(len(ran)) {
		t.Errorf("%d batches for %d concurrent calls: none shared", n, len(ran))
	}

	// A caller that gives up while its call waits: the call never runs.
	block := make(chan struct{})
	var runs atomic.Int32
	b = newBatcher(1, 16, func(calls []*call[int]) {
		runs.Add(int32(len(calls)))
		<-block
	})
	go b.do(context.Background(), 1) // occupies the one worker
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.do(ctx, 2); err == nil {
		t.Error("gave up, yet no error")
	}
	close(block)
	time.Sleep(20 * time.Millisecond)
	if n := runs.Load(); n != 1 {
		t.Errorf("%d calls ran, want 1: the abandoned one must not", n)
	}
}

package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/kommunity/kommunity/pledge"
)

// stores remembers the store behind each service the suite makes: the
// suite checks what a store holds behind the service, which adapters
// cannot reach (pledge.Service keeps its store private).
var stores sync.Map // *pledge.Service -> pledge.Store

// newService is a service on st with the clock now (nil: the real one).
func newService(st pledge.Store, now func() time.Time) *pledge.Service {
	svc := pledge.NewService(st)
	if now != nil {
		svc.Now = now
	}
	stores.Store(svc, st)
	return svc
}

// storeOf is the store behind a service from newService.
func storeOf(svc *pledge.Service) pledge.Store {
	st, ok := stores.Load(svc)
	if !ok {
		panic("storetest: a service not made by newService")
	}
	return st.(pledge.Store)
}

// withTTL sets a service's progress TTL.
func withTTL(svc *pledge.Service, ttl time.Duration) *pledge.Service {
	svc.ProgressTTL = ttl
	return svc
}

// suiteCase is one named case of a conformance suite.
type suiteCase struct {
	name string
	fn   func(*testing.T, *pledge.Service)
}

// runSuite runs each case on a fresh store from open, through a service
// with the suite's fixed clock.
func runSuite(t *testing.T, open Opener, cases []suiteCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			tc.fn(t, newService(st, func() time.Time { return Now }))
		})
	}
}

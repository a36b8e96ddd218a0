package testkit

import (
	"context"
	"sync"
	"testing"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/persistence"
)

// StartRuntime opens a store with store's options (a real badger store in
// store.Dir, or an in-memory one) and starts a runtime over it with opts
// (Store and Coordinators are filled in). Both are closed when the test
// ends.
func StartRuntime(tb testing.TB, store persistence.Options, opts actors.Options) (*actors.Runtime, *persistence.DB) {
	tb.Helper()
	rt, db, _ := OpenRuntime(tb, store, opts)
	return rt, db
}

// OpenRuntime is StartRuntime for a test that stops the runtime and its
// store before it ends (to start again over the same data dir): stop
// closes both, at once; at the end of the test it does nothing more.
func OpenRuntime(tb testing.TB, store persistence.Options, opts actors.Options) (rt *actors.Runtime, db *persistence.DB, stop func()) {
	tb.Helper()
	db, err := persistence.Open(store)
	if err != nil {
		tb.Fatal(err)
	}
	rt, stop = OpenRuntimeOn(tb, db, opts)
	return rt, db, stop
}

// OpenRuntimeOn is OpenRuntime over an open store of any backend (the
// badger DB, a postgres.Store): stop closes the runtime, then the store.
func OpenRuntimeOn(tb testing.TB, db persistence.Backend, opts actors.Options) (rt *actors.Runtime, stop func()) {
	tb.Helper()
	opts.Store, opts.Coordinators = db, coordinators.Kinds()
	rt, err := actors.NewRuntime(opts)
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rt.Close(ctx)
			if err := db.Close(); err != nil {
				tb.Error(err)
			}
		})
	}
	tb.Cleanup(stop)
	return rt, stop
}

// WaitFor polls cond until it holds, or fails tb when d has passed
// (tests poll with a deadline; they never sleep).
func WaitFor(tb testing.TB, d time.Duration, cond func() bool, what string) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(time.Millisecond)
	}
}

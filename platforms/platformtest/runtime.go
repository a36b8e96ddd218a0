package platformtest

import (
	"testing"

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
	db, err := persistence.Open(store)
	if err != nil {
		tb.Fatal(err)
	}
	opts.Store, opts.Coordinators = db, coordinators.Kinds()
	rt, err := actors.NewRuntime(opts)
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		rt.Close()
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return rt, db
}

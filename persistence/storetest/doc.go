// Package storetest is the conformance suite of persistence.Backend: one
// set of tests that every backend (badger, PostgreSQL) runs, so that the
// runtime can rely on the same behaviour from each: reads, writes, prefix
// scans, group commit with its callbacks, the order of calls, fencing by
// epoch, CAS, corrupt values, closing with writes queued, and running out
// of space.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			Open: func(tb testing.TB, name string) persistence.Backend { ... },
//		})
//	}
package storetest

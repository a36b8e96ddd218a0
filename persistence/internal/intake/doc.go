// Package intake is the front of the stores' writers (the badger writer in
// persistence, the PostgreSQL one in persistence/postgres): calls queued
// by any goroutine, taken in order, all at once, by the one writer
// goroutine, which commits them as batches; once closed it refuses new
// calls, so the writer finishes what was queued before and stops.
//
//	q := intake.New[call]()
//	if !q.Put(c) { /* report ErrClosed */ }
//	calls, closing := q.Take(spare) // in the writer; <-q.Wake() when empty
package intake

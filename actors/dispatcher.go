package actors

import "sync"

// poolDispatcher runs mailboxes on long-lived worker goroutines.
//
// protoactor's default dispatcher starts a goroutine for every mailbox run;
// a turn (interpreter, expr VM, store) needs more stack than a new
// goroutine has, so every run paid for a stack copy (about a fifth of the
// CPU of a persisted turn, measured). Workers keep their grown stacks.
// When every worker is busy and the queue is full, Schedule falls back to a
// new goroutine, so it never blocks the sender.
type poolDispatcher struct {
	work       chan func()
	throughput int
	stop       sync.Once
}

func newPoolDispatcher(workers, queue, throughput int) *poolDispatcher {
	d := &poolDispatcher{work: make(chan func(), queue), throughput: throughput}
	for i := 0; i < workers; i++ {
		go d.worker()
	}
	return d
}

func (d *poolDispatcher) worker() {
	for fn := range d.work {
		fn()
	}
}

// Schedule runs fn on a worker, or on a new goroutine if none is free soon.
func (d *poolDispatcher) Schedule(fn func()) {
	select {
	case d.work <- fn:
	default:
		go fn()
	}
}

// Throughput is how many messages a mailbox handles before yielding.
func (d *poolDispatcher) Throughput() int { return d.throughput }

// close stops the workers once the actor system has shut down.
func (d *poolDispatcher) close() { d.stop.Do(func() { close(d.work) }) }

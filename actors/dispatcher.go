package actors

import "sync"

// poolDispatcher runs mailboxes on long-lived worker goroutines.
//
// protoactor's default dispatcher starts a goroutine for every mailbox run;
// a turn (interpreter, expr VM, store) needs more stack than a new
// goroutine has, so every run paid for a stack copy (about a fifth of the
// CPU of a persisted turn, measured). Workers keep their grown stacks.
// The queue is unbounded: workers only ever wait on the store's writer,
// which never waits on actors, so work always drains (and bursts do not
// leave thousands of goroutine descriptors behind, which Go never frees).
type poolDispatcher struct {
	mu         sync.Mutex
	cond       *sync.Cond
	queue      []func()
	head       int
	closed     bool
	throughput int
}

func newPoolDispatcher(workers, throughput int) *poolDispatcher {
	d := &poolDispatcher{throughput: throughput}
	d.cond = sync.NewCond(&d.mu)
	for i := 0; i < workers; i++ {
		go d.worker()
	}
	return d
}

func (d *poolDispatcher) worker() {
	for {
		d.mu.Lock()
		for d.head == len(d.queue) && !d.closed {
			d.cond.Wait()
		}
		if d.head == len(d.queue) {
			d.mu.Unlock()
			return
		}
		fn := d.queue[d.head]
		d.queue[d.head] = nil
		d.head++
		if d.head == len(d.queue) {
			d.queue, d.head = d.queue[:0], 0
		}
		d.mu.Unlock()
		fn()
	}
}

// Schedule queues fn for a worker; it never blocks.
func (d *poolDispatcher) Schedule(fn func()) {
	d.mu.Lock()
	d.queue = append(d.queue, fn)
	d.mu.Unlock()
	d.cond.Signal()
}

// Throughput is how many messages a mailbox handles before yielding.
func (d *poolDispatcher) Throughput() int { return d.throughput }

// close stops the workers once the queue is empty.
func (d *poolDispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cond.Broadcast()
}

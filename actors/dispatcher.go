package actors

import (
	"runtime"
	"sync"
)

// poolDispatcher runs mailboxes on long-lived worker goroutines.
//
// protoactor's default dispatcher starts a goroutine for every mailbox run;
// a turn (interpreter, expr VM, store) needs more stack than a new
// goroutine has, so every run paid for a stack copy (about a fifth of the
// CPU of a persisted turn, measured). Workers keep their grown stacks.
// The queue is unbounded: workers only ever wait on the store's writer,
// which never waits on actors, so work always drains (and bursts do not
// leave thousands of goroutine descriptors behind, which Go never frees).
//
// A worker is woken only when fewer than about GOMAXPROCS workers are
// running: more could not run at once anyway, and a running worker takes
// the next queued mailbox when it is done with one. A burst (the commits
// of a store batch) then costs a few wake-ups rather than one per mailbox.
type poolDispatcher struct {
	mu         sync.Mutex
	cond       *sync.Cond
	queue      []func()
	head       int
	closed     bool
	throughput int
	waiting    int // workers parked in cond.Wait
	busy       int // workers running, or woken to run
	target     int // how many workers to keep busy when there is work
	workers    sync.WaitGroup
}

func newPoolDispatcher(workers, throughput int) *poolDispatcher {
	d := &poolDispatcher{throughput: throughput, target: dispatchTarget()}
	d.cond = sync.NewCond(&d.mu)
	d.busy = workers // each worker counts itself out when it parks
	d.workers.Add(workers)
	for i := 0; i < workers; i++ {
		go d.worker()
	}
	return d
}

func (d *poolDispatcher) worker() {
	defer d.workers.Done()
	d.mu.Lock()
	for {
		for d.head == len(d.queue) && !d.closed {
			d.busy--
			d.waiting++
			d.cond.Wait() // Schedule counted us busy again before waking us
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
		d.mu.Lock()
	}
}

// Schedule queues fn for a worker; it never blocks.
func (d *poolDispatcher) Schedule(fn func()) {
	d.mu.Lock()
	d.queue = append(d.queue, fn)
	wake := d.waiting > 0 && d.busy < d.target
	if wake {
		d.waiting--
		d.busy++
	}
	d.mu.Unlock()
	if wake {
		d.cond.Signal()
	}
}

// Throughput is how many messages a mailbox handles before yielding.
func (d *poolDispatcher) Throughput() int { return d.throughput }

// close stops the workers once the queue is empty, and waits for them.
func (d *poolDispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cond.Broadcast()
	d.workers.Wait()
}

func dispatchTarget() int { return runtime.GOMAXPROCS(0) + 1 }

// dispatcherFor returns the pool that runs the actors of kind k: masters
// and groups (and their directories) have a pool of their own, so that a
// storm of new conversations, each queued for the shared workers, does not
// make every conversation's group or master wait behind it.
func (r *Runtime) dispatcherFor(k addrKind) *poolDispatcher {
	if k == kindSession {
		return r.dispatch
	}
	return r.coord
}

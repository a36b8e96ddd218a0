package actors

import (
	"container/heap"
	"sync"
	"time"

	"botserver/dsl"
)

// TimerRef names one armed timer of one script instance.
type TimerRef struct {
	Bot  string
	Addr string
	ID   uint64
}

// Timekeeper holds every armed timer of the runtime, so that timers of
// passivated actors still fire: fire delivers to the instance's address,
// which reactivates it. The timers are a heap behind one clock timer set
// for the earliest, which keeps an armed timer at about a hundred bytes
// (every conversation has one: its idle timeout).
type Timekeeper struct {
	clock  Clock
	fire   func(TimerRef)
	mu     sync.Mutex
	heap   timerHeap
	byRef  map[TimerRef]*entry
	stop   func() bool // the clock timer for the earliest entry
	wakeAt time.Time
}

type entry struct {
	ref  TimerRef
	kind dsl.TimerKind
	at   time.Time
	idx  int
}

type timerHeap []*entry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *timerHeap) Push(x any)        { e := x.(*entry); e.idx = len(*h); *h = append(*h, e) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// NewTimekeeper returns a timekeeper that calls fire (in its own goroutine)
// for each timer that falls due.
func NewTimekeeper(clock Clock, fire func(TimerRef)) *Timekeeper {
	return &Timekeeper{clock: clock, fire: fire, byRef: map[TimerRef]*entry{}}
}

// Arm (re)arms timer r to fire at at.
func (tk *Timekeeper) Arm(r TimerRef, kind dsl.TimerKind, at time.Time) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if e := tk.byRef[r]; e != nil {
		e.kind, e.at = kind, at
		heap.Fix(&tk.heap, e.idx)
	} else {
		e = &entry{ref: r, kind: kind, at: at}
		heap.Push(&tk.heap, e)
		tk.byRef[r] = e
	}
	tk.scheduleLocked()
}

// Disarm forgets timer r.
func (tk *Timekeeper) Disarm(r TimerRef) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if e := tk.byRef[r]; e != nil {
		heap.Remove(&tk.heap, e.idx)
		delete(tk.byRef, r)
		tk.scheduleLocked()
	}
}

// DisarmBot forgets every timer of bot.
func (tk *Timekeeper) DisarmBot(bot string) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	for r, e := range tk.byRef {
		if r.Bot == bot {
			heap.Remove(&tk.heap, e.idx)
			delete(tk.byRef, r)
		}
	}
	tk.scheduleLocked()
}

// DisarmWhere forgets every timer for which drop is true (drop is called
// under the timekeeper's lock: it must not arm or disarm).
func (tk *Timekeeper) DisarmWhere(drop func(TimerRef) bool) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	for r, e := range tk.byRef {
		if drop(r) {
			heap.Remove(&tk.heap, e.idx)
			delete(tk.byRef, r)
		}
	}
	tk.scheduleLocked()
}

// scheduleLocked sets the clock timer for the earliest entry.
func (tk *Timekeeper) scheduleLocked() {
	if len(tk.heap) == 0 {
		tk.cancelLocked()
		return
	}
	at := tk.heap[0].at
	if tk.stop != nil && tk.wakeAt.Equal(at) {
		return
	}
	tk.cancelLocked()
	tk.wakeAt = at
	tk.stop = tk.clock.AfterFunc(at.Sub(tk.clock.Now()), tk.tick)
}

func (tk *Timekeeper) cancelLocked() {
	if tk.stop != nil {
		tk.stop()
		tk.stop = nil
	}
}

// tick fires every entry that is due, then sets the clock timer again.
func (tk *Timekeeper) tick() {
	tk.mu.Lock()
	tk.stop = nil
	now := tk.clock.Now()
	var due []TimerRef
	for len(tk.heap) > 0 && !tk.heap[0].at.After(now) {
		e := heap.Pop(&tk.heap).(*entry)
		delete(tk.byRef, e.ref)
		due = append(due, e.ref)
	}
	tk.scheduleLocked()
	tk.mu.Unlock()
	for _, r := range due {
		tk.fire(r)
	}
}

// Close disarms every timer.
func (tk *Timekeeper) Close() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.cancelLocked()
	tk.heap, tk.byRef = nil, map[TimerRef]*entry{}
}

// Len returns the number of armed timers.
func (tk *Timekeeper) Len() int {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return len(tk.heap)
}

// NextAutomatic returns the deadline of the earliest pause/type/query
// timer. Transcripts advance their simulated clock to it when everything
// else has settled: those waits cost no wall time, while idle and ask
// timeouts fire only when a transcript waits (@wait).
func (tk *Timekeeper) NextAutomatic() (time.Time, bool) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	var best time.Time
	found := false
	for _, e := range tk.heap {
		if e.kind != dsl.TimerResume && e.kind != dsl.TimerQuery {
			continue
		}
		if !found || e.at.Before(best) {
			best, found = e.at, true
		}
	}
	return best, found
}

package actors

import (
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
// which reactivates it.
type Timekeeper struct {
	clock  Clock
	fire   func(TimerRef)
	mu     sync.Mutex
	timers map[TimerRef]*armed
}

type armed struct {
	kind dsl.TimerKind
	at   time.Time
	stop func() bool
}

// NewTimekeeper returns a timekeeper that calls fire (in its own goroutine)
// for each timer that falls due.
func NewTimekeeper(clock Clock, fire func(TimerRef)) *Timekeeper {
	return &Timekeeper{clock: clock, fire: fire, timers: map[TimerRef]*armed{}}
}

// Arm (re)arms timer r to fire at at.
func (tk *Timekeeper) Arm(r TimerRef, kind dsl.TimerKind, at time.Time) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if old := tk.timers[r]; old != nil {
		old.stop()
	}
	a := &armed{kind: kind, at: at}
	a.stop = tk.clock.AfterFunc(at.Sub(tk.clock.Now()), func() { tk.due(r, a) })
	tk.timers[r] = a
}

func (tk *Timekeeper) due(r TimerRef, a *armed) {
	tk.mu.Lock()
	current := tk.timers[r] == a
	if current {
		delete(tk.timers, r)
	}
	tk.mu.Unlock()
	if current {
		tk.fire(r)
	}
}

// Disarm forgets timer r.
func (tk *Timekeeper) Disarm(r TimerRef) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if a := tk.timers[r]; a != nil {
		a.stop()
		delete(tk.timers, r)
	}
}

// DisarmBot forgets every timer of bot.
func (tk *Timekeeper) DisarmBot(bot string) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	for r, a := range tk.timers {
		if r.Bot == bot {
			a.stop()
			delete(tk.timers, r)
		}
	}
}

// Close disarms every timer.
func (tk *Timekeeper) Close() {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	for r, a := range tk.timers {
		a.stop()
		delete(tk.timers, r)
	}
}

// Len returns the number of armed timers.
func (tk *Timekeeper) Len() int {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return len(tk.timers)
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
	for _, a := range tk.timers {
		if a.kind != dsl.TimerResume && a.kind != dsl.TimerQuery {
			continue
		}
		if !found || a.at.Before(best) {
			best, found = a.at, true
		}
	}
	return best, found
}

package actors

import (
	"sync"
	"testing"
	"time"

	"botserver/dsl"
)

func TestTimekeeper(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := NewFakeClock(start)
	var mu sync.Mutex
	var fired []uint64
	tk := NewTimekeeper(clock, func(r TimerRef) {
		mu.Lock()
		defer mu.Unlock()
		fired = append(fired, r.ID)
	})
	ref := func(id uint64) TimerRef { return TimerRef{Bot: "b", Addr: "a", ID: id} }
	tk.Arm(ref(1), dsl.TimerIdle, start.Add(3*time.Second))
	tk.Arm(ref(2), dsl.TimerResume, start.Add(1*time.Second))
	tk.Arm(ref(3), dsl.TimerQuery, start.Add(2*time.Second))
	tk.Arm(ref(4), dsl.TimerResume, start.Add(5*time.Second))
	tk.Disarm(ref(4))
	tk.Arm(ref(1), dsl.TimerIdle, start.Add(4*time.Second)) // re-armed later
	if next, ok := tk.NextAutomatic(); !ok || !next.Equal(start.Add(time.Second)) {
		t.Errorf("NextAutomatic = %v %v, want +1s", next, ok)
	}
	clock.Advance(2 * time.Second)
	if got := tk.Len(); got != 1 {
		t.Errorf("%d timers left after 2s, want 1", got)
	}
	clock.Advance(10 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if want := []uint64{2, 3, 1}; len(fired) != 3 || fired[0] != want[0] || fired[1] != want[1] || fired[2] != want[2] {
		t.Errorf("fired %v, want %v", fired, want)
	}
}

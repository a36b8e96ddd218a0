package actors

import (
	"time"

	"botserver/dsl"
)

// armedBy reports whether timer r is armed to fire at or before at.
func (tk *Timekeeper) armedBy(r TimerRef, at time.Time) bool {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	e := tk.byRef[r]
	return e != nil && !e.at.After(at)
}

// armIdleExactly arms the instance's idle timeout for the time in its
// state (turns leave it armed earlier, see armTimers), so that it does not
// wake the instance early once passivated.
func (a *instance) armIdleExactly() {
	for _, t := range a.st.Timers {
		if t.Kind == dsl.TimerIdle {
			a.rt().timers.Arm(TimerRef{Bot: a.bot.id, Addr: a.addr, ID: t.ID}, t.Kind, t.At)
		}
	}
}

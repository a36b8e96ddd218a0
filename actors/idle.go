package actors

import (
	"github.com/asynkron/protoactor-go/actor"
)

// Idle instances passivate. A directory sweeps its routing table every
// quarter of Options.IdleAfter: an entry counts the sweeps since a message
// was last routed to it (route resets the count under the lock it holds
// anyway), and an instance that got none for IdleAfter is sent idleCheck.
// So messages touch no timer (protoactor's receive timeout stops and
// resets one for every message, and its handler races with the actor), and
// an idle instance holds no timer. An instance passivates between
// IdleAfter and 1.25 × IdleAfter after its last message.
//
// The directory answers passivate with stopNow, after which no message
// can reach the instance; the instance stops once the effects of its
// turns are released (a stop before that would lose them).

// idleSweeps is how many sweeps without a message make an instance idle.
const idleSweeps = 4

// idleCheck tells an instance that it has had no message for IdleAfter.
type idleCheck struct{}

// stopNow is the directory's answer to passivate.
type stopNow struct{}

// sweep is a directory's sweep timer firing.
type sweep struct{}

var theIdleCheck, theSweep = &idleCheck{}, &sweep{}

// sweeper is a directory's sweep timer on the runtime's clock (none when
// instances never passivate).
type sweeper struct{ stop func() bool }

func (s *sweeper) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// idleCheck passivates an idle instance, unless it is busy: the next sweep
// asks again.
func (a *instance) idleCheck(ctx actor.Context) {
	if a.asked || a.stopping || a.passivating || !a.flush(ctx) {
		return
	}
	if a.st != nil {
		a.armIdleExactly()
	}
	a.passivate(ctx)
}

// armSweep sets the directory's next sweep (if instances passivate).
func (d *directory) armSweep(ctx actor.Context) {
	idle := d.bot.rt.opts.IdleAfter
	if idle <= 0 {
		return
	}
	self, root := ctx.Self(), ctx.ActorSystem().Root
	d.sweeper.stop = d.bot.rt.clock.AfterFunc(idle/idleSweeps, func() { root.Send(self, theSweep) })
}

// sweep counts a sweep for every running instance and sends idleCheck to
// those without a message for IdleAfter.
func (d *directory) sweep(ctx actor.Context) {
	t := &d.bot.residents[d.kind]
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, e := range s.m {
			if e.pid == nil || e.stopping || e.dead {
				continue
			}
			if e.idle <= idleSweeps {
				e.idle++
			}
			if e.idle > idleSweeps {
				ctx.Send(e.pid, theIdleCheck)
			}
		}
		s.mu.Unlock()
	}
	d.armSweep(ctx)
}

package actors

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"botserver"

	"github.com/asynkron/protoactor-go/actor"
)

// ErrReceiverExists: the bot already runs a receiver of that name.
var ErrReceiverExists = errors.New("receiver exists")

// How a failing receiver is restarted: the first restart waits
// receiverBackoff, each next one twice as long up to receiverBackoffMax;
// a run that lasted receiverSteady starts the count over.
const (
	receiverBackoff    = time.Second
	receiverBackoffMax = 5 * time.Minute
	receiverSteady     = time.Minute
	receiverPrefix     = "receiver-" // of a receiver's actor names under its bot's supervisor
)

// AddReceiver runs rec as a child of bot's supervisor, named name ("slack"):
// it runs until the bot is removed (or Run returns nil), and when Run
// fails or panics it runs again after a pause (1 s, doubling up to 5 min,
// back to 1 s after a run of a minute), on the runtime's clock. A
// receiver's failures never mark the bot failed. It returns
// botserver.ErrUnknownBot, ErrReceiverExists for a name the bot already
// runs, or ctx's error when the bot's supervisor does not answer in time.
func (r *Runtime) AddReceiver(ctx context.Context, bot, name string, rec botserver.Receiver) error {
	b := r.bot(bot)
	if b == nil {
		return fmt.Errorf("%w: %s", botserver.ErrUnknownBot, bot)
	}
	sup := b.supervisor()
	if sup == nil {
		return fmt.Errorf("bot %s is still starting", bot)
	}
	msg := &addReceiver{name: name, rec: rec, done: make(chan error, 1)}
	r.system.Root.Send(sup, msg)
	select {
	case err := <-msg.done:
		return err
	case <-ctx.Done():
		if msg.state.CompareAndSwap(receiverAsked, receiverAbandoned) {
			return fmt.Errorf("cannot start the %s receiver of bot %s: %w", name, bot, ctx.Err())
		}
		return <-msg.done // the supervisor took it first: its answer is on its way
	}
}

// addReceiver asks a bot's supervisor to start a receiver; the outcome goes
// to done (buffered).
type addReceiver struct {
	name  string
	rec   botserver.Receiver
	done  chan error
	state atomic.Int32 // receiverAsked, then taken by the supervisor or abandoned by the caller
}

// addReceiver states: whoever moves it from receiverAsked decides, so a
// caller that gave up is never left with a receiver running.
const (
	receiverAsked int32 = iota
	receiverTaken
	receiverAbandoned
)

// spawnReceiver starts msg's receiver as a child of the bot's supervisor.
// Each run gets an actor name of its own (receiverPrefix+name+"-"+n): a
// receiver that stopped frees its name in the process registry before its
// Terminated reaches the supervisor, and a new receiver spawned under the
// same pid in between would be dropped from the supervisor's children by
// that Terminated, and so outlive its bot. The name is the supervisor's to
// hand out, by its receivers map.
func (s *botSupervisor) spawnReceiver(ctx actor.Context, msg *addReceiver) {
	if !msg.state.CompareAndSwap(receiverAsked, receiverTaken) {
		return // its caller gave up waiting
	}
	for _, run := range s.receivers {
		if run.name == msg.name {
			msg.done <- fmt.Errorf("%w: bot %s already runs a %s receiver", ErrReceiverExists, s.bot.id, msg.name)
			return
		}
	}
	clock := s.bot.rt.clock
	props := actor.PropsFromProducer(func() actor.Actor {
		return &receiverActor{name: msg.name, rec: msg.rec, clock: clock}
	})
	pid := ctx.SpawnPrefix(props, receiverPrefix+msg.name+"-")
	if s.receivers == nil {
		s.receivers = map[string]*receiverRun{}
	}
	s.receivers[pid.Id] = &receiverRun{name: msg.name}
	s.bot.log.Info("receiver started", "receiver", msg.name)
	msg.done <- nil
}

// receiverRun is a running receiver: its name, and how long it waits
// before its next restart.
type receiverRun struct {
	name string
	receiverPause
}

// receiverPause is how long a receiver waits before its next restart.
type receiverPause struct{ wait time.Duration }

// next returns the pause before restarting a receiver that ran for ran.
func (p *receiverPause) next(ran time.Duration) time.Duration {
	switch {
	case p.wait == 0 || ran >= receiverSteady:
		p.wait = receiverBackoff
	default:
		p.wait = min(2*p.wait, receiverBackoffMax)
	}
	return p.wait
}

// restartReceiver restarts a failed receiver after its pause; it reports
// false when child is not a receiver.
func (s *botSupervisor) restartReceiver(sup actor.Supervisor, child *actor.PID, reason any) bool {
	run, ok := s.receivers[child.Id]
	if !ok {
		return false
	}
	var ran time.Duration
	if f, ok := reason.(*receiverFailure); ok {
		ran = f.ran
	}
	wait := run.next(ran)
	s.bot.log.Warn("receiver failed; restarting it", "receiver", run.name, "reason", reason, "in", wait)
	s.bot.rt.clock.AfterFunc(wait, func() { sup.RestartChildren(child) })
	return true
}

// receiverActor runs one botserver.Receiver: Run on its own goroutine from
// Started, cancelled when the actor stops or restarts. A failed Run fails
// the actor, and its supervisor restarts it (botSupervisor.HandleFailure).
type receiverActor struct {
	name    string
	rec     botserver.Receiver
	clock   Clock
	cancel  context.CancelFunc
	started time.Time
}

// receiverEnded: Run returned err.
type receiverEnded struct{ err error }

// receiverFailure is the reason a receiver fails with.
type receiverFailure struct {
	name string
	err  error
	ran  time.Duration // how long Run ran
}

func (f *receiverFailure) Error() string {
	return fmt.Sprintf("receiver %s failed after %v: %v", f.name, f.ran, f.err)
}

// Receive starts Run, fails when it fails, and cancels it on the way out.
func (a *receiverActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.start(ctx)
	case *receiverEnded:
		if msg.err == nil {
			ctx.Stop(ctx.Self()) // nothing more to receive
			return
		}
		panic(&receiverFailure{name: a.name, err: msg.err, ran: a.clock.Now().Sub(a.started)})
	case *actor.Stopping, *actor.Restarting:
		if a.cancel != nil {
			a.cancel()
		}
	}
}

// start runs the receiver; its end comes back as a receiverEnded.
func (a *receiverActor) start(ctx actor.Context) {
	run, cancel := context.WithCancel(context.Background())
	a.cancel, a.started = cancel, a.clock.Now()
	self, root, rec := ctx.Self(), ctx.ActorSystem().Root, a.rec
	go func() {
		defer cancel()
		root.Send(self, &receiverEnded{err: runReceiver(run, rec)})
	}()
}

// runReceiver calls rec.Run, turning a panic into an error.
func runReceiver(ctx context.Context, rec botserver.Receiver) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return rec.Run(ctx)
}

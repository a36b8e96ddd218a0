package actors

import (
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Service is a long-running part of the server that the supervision tree
// runs beside the bots: the Endpoint (the HTTP listener).
type Service interface {
	// Start starts serving and returns once it serves, or why it cannot.
	// If it stops serving on its own later, it calls failed once (from any
	// goroutine); the tree then stops and restarts it.
	Start(failed func(error)) error
	// Stop stops serving. It is called once after every Start, also one
	// that failed, and must not call failed.
	Stop()
}

// The top of the tree (after Juvet's process architecture):
//
//	BotFactory
//	└── Superintendent — validates; only if valid does it start:
//	    ├── Endpoint (Options.Endpoint, if any) — restarted when it fails
//	    └── FactorySupervisor — one bot supervisor per bot (AddBot)
//
// botFactory is the root. Runtime.Start spawns it and waits for the
// superintendent's verdict.
type botFactory struct {
	rt    *Runtime
	ready chan error
}

// Receive starts the superintendent.
func (f *botFactory) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		rt, ready := f.rt, f.ready
		props := actor.PropsFromProducer(func() actor.Actor { return &superintendent{rt: rt, ready: ready} })
		if _, err := ctx.SpawnNamed(props, "superintendent"); err != nil {
			select {
			case f.ready <- err:
			default:
			}
		}
	}
}

// superintendent validates the configuration and only then starts the
// endpoint and the factory supervisor. It reports the outcome once, and
// supervises the endpoint: a failed endpoint is restarted, at once the
// first time and then after a growing pause (endpointBackoff), for as long
// as it keeps failing; the bots are not touched.
type superintendent struct {
	rt    *Runtime
	ready chan error
}

// Receive validates and starts the children.
func (s *superintendent) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); !ok {
		return
	}
	err := s.start(ctx)
	select { // buffered: only the first start is awaited
	case s.ready <- err:
	default:
	}
}

func (s *superintendent) start(ctx actor.Context) error {
	if v := s.rt.opts.Validate; v != nil {
		if err := v(); err != nil {
			return fmt.Errorf("invalid configuration: %w", err)
		}
	}
	if e := s.rt.opts.Endpoint; e != nil {
		first := &firstStart{up: make(chan error, 1)}
		props := actor.PropsFromProducer(func() actor.Actor { return &endpoint{svc: e, first: first} })
		if _, err := ctx.SpawnNamed(props, "endpoint"); err != nil {
			return err
		}
		if err := <-first.up; err != nil {
			return fmt.Errorf("endpoint: %w", err)
		}
	}
	pid, err := ctx.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return &factory{} }), "bots")
	if err != nil {
		return err
	}
	s.rt.factory.Store(pid)
	return nil
}

// endpointBackoff is the pause before the nth restart of a failing
// endpoint within a minute (the first is at once), and its cap.
const (
	endpointBackoff    = 100 * time.Millisecond
	endpointBackoffMax = 5 * time.Second
)

// HandleFailure restarts a failed child: the endpoint after its backoff.
// (The factory supervisor does not fail: a bot's failures stay in its own
// supervisor.)
func (s *superintendent) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, _ any) {
	rs.Fail()
	n := rs.NumberOfFailures(time.Minute)
	s.rt.log.Error("endpoint failed; restarting it", "reason", reason, "failures_in_last_minute", n)
	delay := min(time.Duration(n-1)*endpointBackoff, endpointBackoffMax)
	if delay <= 0 {
		sup.RestartChildren(child)
		return
	}
	s.rt.clock.AfterFunc(delay, func() { sup.RestartChildren(child) })
}

// endpoint runs a Service as an actor: started with it, stopped with it,
// and restarted by the superintendent when the service fails.
type endpoint struct {
	svc   Service
	first *firstStart // shared by the actor's incarnations
}

// firstStart hands the outcome of the endpoint's first Start to the
// superintendent, which waits for it; later starts are restarts.
type firstStart struct {
	once sync.Once
	up   chan error
}

// serviceFailed is the service reporting that it stopped serving.
type serviceFailed struct{ err error }

// Receive starts and stops the service; a failure (of the service, or of
// a restart's Start) fails the actor, so that its supervisor restarts it.
func (e *endpoint) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		self, root := ctx.Self(), ctx.ActorSystem().Root
		err := e.svc.Start(func(err error) { root.Send(self, &serviceFailed{err}) })
		first := false
		e.first.once.Do(func() { e.first.up <- err; first = true })
		if err != nil && !first { // the superintendent reports a first start's error
			panic(fmt.Errorf("endpoint restart: %w", err))
		}
	case *serviceFailed:
		panic(fmt.Errorf("endpoint stopped serving: %w", msg.err))
	case *actor.Restarting, *actor.Stopping:
		e.svc.Stop()
	}
}

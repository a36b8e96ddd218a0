package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
)

// Service is a long-running part of the server started by the
// supervision tree beside the bots: the HTTP endpoint. Start must return
// once it is serving (or failed to); Stop shuts it down.
type Service interface {
	Start() error
	Stop()
}

// The top of the tree (after Juvet's process architecture):
//
//	BotFactory (all-for-one)
//	└── Superintendent — validates; only if valid does it start:
//	    ├── Endpoint (Options.Endpoint, if any)
//	    └── FactorySupervisor — one bot supervisor per bot
//
// botFactory is the root; a failure of the superintendent's subtree
// restarts all of it.
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
// endpoint and the factory supervisor. It reports the outcome once.
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
		up := make(chan error, 1)
		props := actor.PropsFromProducer(func() actor.Actor { return &endpoint{svc: e, up: up} })
		if _, err := ctx.SpawnNamed(props, "endpoint"); err != nil {
			return err
		}
		if err := <-up; err != nil {
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

// endpoint runs a Service as an actor: started with it, stopped with it.
type endpoint struct {
	svc Service
	up  chan error // receives Start's outcome (buffered; later starts are not awaited)
}

// Receive starts and stops the service.
func (e *endpoint) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		err := e.svc.Start()
		select {
		case e.up <- err:
		default:
		}
	case *actor.Stopping:
		e.svc.Stop()
	}
}

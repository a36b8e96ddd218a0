package actors_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// fakeEndpoint is a Service that counts its starts and stops, fails its
// starts while startErr is set, and keeps the failed callback of its
// running start.
type fakeEndpoint struct {
	mu               sync.Mutex
	startErr         error
	failed           func(error)
	started, stopped atomic.Int32
}

func (e *fakeEndpoint) Start(failed func(error)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started.Add(1)
	e.failed = failed
	return e.startErr
}

func (e *fakeEndpoint) Stop() { e.stopped.Add(1) }

// fail makes the running endpoint report that it stopped serving.
func (e *fakeEndpoint) fail(err error) {
	e.mu.Lock()
	f := e.failed
	e.mu.Unlock()
	f(err)
}

func (e *fakeEndpoint) setStartErr(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startErr = err
}

func TestSuperintendent(t *testing.T) {
	db, err := persistence.Open(persistence.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := actors.Options{Store: db, Coordinators: coordinators.Kinds()}
	tests := []struct {
		name     string
		validate func() error
		endpoint *fakeEndpoint
		wantErr  string
	}{
		{name: "valid, with endpoint", endpoint: &fakeEndpoint{}},
		{name: "invalid config starts nothing", validate: func() error { return errors.New(`bots[1].id: "Bad Id" must match [a-z0-9][a-z0-9_-]{0,62}`) },
			endpoint: &fakeEndpoint{}, wantErr: `invalid configuration: bots[1].id: "Bad Id" must match`},
		{name: "endpoint that cannot start", endpoint: &fakeEndpoint{startErr: errors.New("listen tcp 127.0.0.1:1: address in use")},
			wantErr: "endpoint: listen tcp 127.0.0.1:1: address in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			opts.Validate, opts.Endpoint = tt.validate, tt.endpoint
			rt, err := actors.NewRuntime(opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.validate != nil && tt.endpoint.started.Load() != 0 {
					t.Errorf("the endpoint started despite an invalid configuration")
				}
				if s, st := tt.endpoint.started.Load(), tt.endpoint.stopped.Load(); s != st {
					t.Errorf("endpoint started %d and stopped %d times, want as many stops as starts", s, st)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.AddBot(context.Background(), "c", compileBot(t, counterBot)); err != nil {
				t.Fatal(err)
			}
			rt.Close(context.Background())
			if s, st := tt.endpoint.started.Load(), tt.endpoint.stopped.Load(); s != 1 || st != 1 {
				t.Errorf("endpoint started %d and stopped %d times, want 1 and 1", s, st)
			}
		})
	}
}

// TestEndpointRestarts: an endpoint that stops serving is stopped and
// started again: at once the first time, after a pause on the clock when it
// fails again, and again after a restart that cannot start; the bots keep
// running meanwhile.
func TestEndpointRestarts(t *testing.T) {
	clock := actors.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := &fakeEndpoint{}
	rt, _ := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{Clock: clock, Endpoint: e, IdleAfter: -1})
	if err := rt.AddBot(context.Background(), "c", compileBot(t, counterBot)); err != nil {
		t.Fatal(err)
	}
	e.fail(errors.New("accept: too many open files"))
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.started.Load() == 2 }, "the restart")
	if got := e.stopped.Load(); got != 1 {
		t.Errorf("stopped %d times before the restart, want 1", got)
	}
	restartAfterBackoff := func(want int32) {
		t.Helper()
		testkit.WaitFor(t, 10*time.Second, func() bool { _, ok := clock.Next(); return ok }, "the backoff timer")
		if got := e.started.Load(); got != want-1 {
			t.Fatalf("started %d times before the backoff ended, want %d", got, want-1)
		}
		next, _ := clock.Next()
		clock.AdvanceTo(next)
		testkit.WaitFor(t, 10*time.Second, func() bool { return e.started.Load() == want }, "the restart after the backoff")
	}
	e.setStartErr(errors.New("listen: address in use"))
	e.fail(errors.New("accept: connection reset"))
	restartAfterBackoff(3) // fails to start
	e.setStartErr(nil)
	restartAfterBackoff(4)
	if got := e.stopped.Load(); got != 3 {
		t.Errorf("stopped %d times, want 3 (once before each restart)", got)
	}

	if err := rt.Deliver(platformtest.Conv("c", "alice", ""), botserver.Inbound{Text: "inc"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rt.Metrics().Turns.Load(); got == 0 {
		t.Errorf("no turn ran: the bot did not keep running")
	}
}

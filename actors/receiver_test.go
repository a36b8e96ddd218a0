package actors_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
)

// fakeReceiver is a platform receiver a test drives: each Run counts, and
// ends when the test sends it an ending (an error, a panic, nil) or when
// its context ends.
type fakeReceiver struct {
	runs, live atomic.Int32
	end        chan func() error
}

func newFakeReceiver() *fakeReceiver { return &fakeReceiver{end: make(chan func() error)} }

func (f *fakeReceiver) Run(ctx context.Context) error {
	f.runs.Add(1)
	f.live.Add(1)
	defer f.live.Add(-1)
	select {
	case <-ctx.Done():
		return nil
	case end := <-f.end:
		return end()
	}
}

// waitRunning waits until the receiver's nth run is the one running.
func (f *fakeReceiver) waitRunning(tb testing.TB, n int32) {
	tb.Helper()
	testkit.WaitFor(tb, 10*time.Second, func() bool { return f.runs.Load() == n && f.live.Load() == 1 }, "the receiver's run")
}

// waitRestartAt waits until the receiver has ended and its restart is
// armed on the fake clock wait from now.
func (s *server) waitRestartAt(f *fakeReceiver, wait time.Duration) {
	s.tb.Helper()
	want := s.clock.Now().Add(wait)
	testkit.WaitFor(s.tb, 10*time.Second, func() bool {
		at, ok := s.clock.Next()
		return f.live.Load() == 0 && ok && at.Equal(want)
	}, "the restart armed")
}

// TestReceiverRestarted: a receiver that fails or panics is restarted by
// its bot's supervisor after a pause on the runtime's clock that doubles
// (1 s, 2 s, 4 s, ... up to 5 min) and starts over after a run of a
// minute; failures far past the restart policy never mark the bot failed,
// and the bot answers all along.
func TestReceiverRestarted(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Restart: actors.RestartPolicy{Max: 2, Within: time.Hour}},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	rec := newFakeReceiver()
	if err := s.rt.AddReceiver(t.Context(), "counter", "fake", rec); err != nil {
		t.Fatal(err)
	}
	rec.waitRunning(t, 1)
	wait := time.Second
	for n := int32(2); n <= 12; n++ {
		if n%2 == 0 {
			rec.end <- func() error { return errors.New("connection refused") }
		} else {
			rec.end <- func() error { panic("receiver bug") }
		}
		s.waitRestartAt(rec, wait)
		s.clock.Advance(wait - time.Nanosecond)
		if got := rec.runs.Load(); got != n-1 {
			t.Fatalf("%d runs before the pause of %v is over, want %d", got, wait, n-1)
		}
		s.clock.Advance(time.Nanosecond)
		rec.waitRunning(t, n)
		wait = min(2*wait, 5*time.Minute)
	}
	if wait != 5*time.Minute {
		t.Fatalf("the pause grew to %v, want the 5 min cap", wait)
	}
	s.clock.Advance(time.Minute) // a steady run: the next pause is 1 s again
	rec.end <- func() error { return errors.New("dropped") }
	s.waitRestartAt(rec, time.Second)
	s.clock.Advance(time.Second)
	rec.waitRunning(t, 13)

	if st := s.rt.Status()[0]; st.Failed {
		t.Errorf("bot status %+v after 12 receiver failures, want it running", st)
	}
	s.say("counter", "alice", "hi")
	s.say("counter", "alice", "inc")
	if got := s.last("alice"); got != "n=1" {
		t.Errorf("the bot answered %q, want n=1", got)
	}
}

// TestReceiverStopsWithBot: removing the bot ends its receiver's run; a
// receiver whose Run returns nil is let go (not restarted) and its name is
// free again; unknown bots and names in use are refused.
func TestReceiverStopsWithBot(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	ctx := t.Context()
	if err := s.rt.AddReceiver(ctx, "nobody", "fake", newFakeReceiver()); !errors.Is(err, botserver.ErrUnknownBot) || err.Error() != "unknown bot: nobody" {
		t.Errorf("a receiver for an unknown bot: %v, want ErrUnknownBot", err)
	}
	rec := newFakeReceiver()
	if err := s.rt.AddReceiver(ctx, "counter", "fake", rec); err != nil {
		t.Fatal(err)
	}
	rec.waitRunning(t, 1)
	err := s.rt.AddReceiver(ctx, "counter", "fake", newFakeReceiver())
	if !errors.Is(err, actors.ErrReceiverExists) || err.Error() != "receiver exists: bot counter already runs a fake receiver" {
		t.Errorf("a second receiver of the same name: %v, want ErrReceiverExists", err)
	}

	rec.end <- func() error { return nil } // done: nothing more to receive
	again := newFakeReceiver()
	testkit.WaitFor(t, 10*time.Second, func() bool {
		return s.rt.AddReceiver(ctx, "counter", "fake", again) == nil
	}, "the name free again")
	again.waitRunning(t, 1)
	if _, armed := s.clock.Next(); armed || rec.live.Load() != 0 || rec.runs.Load() != 1 {
		t.Errorf("a receiver that returned nil: %d runs, %d live, restart armed %v; want it let go", rec.runs.Load(), rec.live.Load(), armed)
	}

	if err := s.rt.RemoveBot(ctx, "counter"); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return again.live.Load() == 0 }, "the receiver's run to end with its bot")
	if again.runs.Load() != 1 {
		t.Errorf("%d runs, want the one, not restarted after the bot's removal", again.runs.Load())
	}
}

// TestReceiverAbandoned: AddReceiver whose context ends before the bot's
// supervisor answers either reports the receiver started (and it runs) or
// reports the context's error, and then no receiver of that name runs:
// the name is free for the next AddReceiver.
func TestReceiverAbandoned(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	abandoned := 0
	for i := range 20 {
		name := fmt.Sprint("fake", i)
		rec := newFakeReceiver()
		err := s.rt.AddReceiver(gone, "counter", name, rec)
		if err == nil {
			rec.waitRunning(t, 1)
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("AddReceiver: %v, want nil or the context's error", err)
		}
		abandoned++
		if err := s.rt.AddReceiver(t.Context(), "counter", name, newFakeReceiver()); err != nil {
			t.Fatalf("after an abandoned AddReceiver, the name %s: %v (a receiver runs that its caller was told failed)", name, err)
		}
		if n := rec.runs.Load(); n != 0 {
			t.Fatalf("the abandoned receiver ran %d times", n)
		}
	}
	if abandoned == 0 {
		t.Log("every AddReceiver was answered before its context was seen to end")
	}
}

package actors_test

import (
	"context"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// server is a runtime over a real badger store in a test's data dir.
type server struct {
	tb    testing.TB
	db    *persistence.DB     // the badger store (nil on another backend)
	store persistence.Backend // the store, of any backend
	rt    *actors.Runtime
	p     *platformtest.Platform
	clock *actors.FakeClock
	idle  time.Duration // Options.IdleAfter
	close func()
}

func compileBot(tb testing.TB, files map[string]string) *dsl.Bot {
	tb.Helper()
	bot, err := dsl.CompileBot(files)
	if err != nil {
		tb.Fatal(err)
	}
	return bot
}

// startServer opens dir and starts the bots (id → files).
func startServer(tb testing.TB, dir string, opts actors.Options, bots map[string]map[string]string) *server {
	tb.Helper()
	return startServerStore(tb, persistence.Options{Dir: dir}, opts, bots)
}

// startServerStore is startServer with the store's options.
func startServerStore(tb testing.TB, sopts persistence.Options, opts actors.Options, bots map[string]map[string]string) *server {
	tb.Helper()
	s := &server{tb: tb, p: platformtest.New(), clock: actors.NewFakeClock(platformtest.Start)}
	opts.Clock = s.clock
	if opts.IdleAfter == 0 {
		opts.IdleAfter = -1
	}
	s.idle = opts.IdleAfter
	s.rt, s.db, s.close = testkit.OpenRuntime(tb, sopts, opts)
	s.store = s.db
	s.addBots(bots)
	return s
}

// addBots registers the test platform and starts the bots.
func (s *server) addBots(bots map[string]map[string]string) {
	s.tb.Helper()
	s.rt.RegisterPlatform(platformtest.Name, s.p)
	for id, files := range bots {
		if err := s.rt.AddBot(context.Background(), id, compileBot(s.tb, files)); err != nil {
			s.tb.Fatal(err)
		}
	}
}

// stop closes the runtime and the store (a test may start a server over
// the same dir again).
func (s *server) stop() { s.close() }

// passivateAll moves the fake clock on a sweep at a time (a quarter of
// IdleAfter) until no session of the first bot is resident.
func (s *server) passivateAll(what string) {
	s.tb.Helper()
	testkit.WaitFor(s.tb, 10*time.Second, func() bool {
		s.clock.Advance(s.idle / 4)
		return s.rt.Status()[0].Sessions == 0
	}, what)
}

func (s *server) settle() {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.rt.Settle(ctx); err != nil {
		s.tb.Fatal(err)
	}
}

// say delivers text from user to bot and waits until the bot settles.
func (s *server) say(bot, user, text string) {
	s.tb.Helper()
	if err := s.rt.Deliver(platformtest.Conv(bot, user, ""), botserver.Inbound{Text: text, Name: user}); err != nil {
		s.tb.Fatalf("deliver %q: %v", text, err)
	}
	s.settle()
}

// texts returns and forgets the texts user received.
func (s *server) texts(user string) []string {
	var out []string
	for _, m := range s.p.Take("test:" + user) {
		switch {
		case m.Kind == botserver.OutText && m.Resent:
			out = append(out, "resent "+m.Text)
		case m.Kind == botserver.OutText:
			out = append(out, m.Text)
		}
	}
	return out
}

func (s *server) last(user string) string {
	s.tb.Helper()
	got := s.texts(user)
	if len(got) == 0 {
		s.tb.Fatalf("%s received nothing", user)
	}
	return got[len(got)-1]
}

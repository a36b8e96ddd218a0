package actors_test

import (
	"context"
	"testing"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// server is a runtime over a real badger store in a test's data dir.
type server struct {
	tb    testing.TB
	db    *persistence.DB
	rt    *actors.Runtime
	p     *platformtest.Platform
	clock *actors.FakeClock
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
	db, err := persistence.Open(sopts)
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{tb: tb, db: db, p: platformtest.New(), clock: actors.NewFakeClock(platformtest.Start)}
	opts.Store, opts.Clock, opts.Coordinators = db, s.clock, coordinators.Kinds()
	if opts.IdleAfter == 0 {
		opts.IdleAfter = -1
	}
	if s.rt, err = actors.NewRuntime(opts); err != nil {
		tb.Fatal(err)
	}
	s.rt.RegisterPlatform(platformtest.Name, s.p)
	for id, files := range bots {
		if err := s.rt.AddBot(id, compileBot(tb, files)); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func (s *server) stop() {
	s.rt.Close()
	if err := s.db.Close(); err != nil {
		s.tb.Fatal(err)
	}
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
	if err := s.rt.Deliver(platformtest.Conv(bot, user, ""), actors.Inbound{Text: text, Name: user}); err != nil {
		s.tb.Fatalf("deliver %q: %v", text, err)
	}
	s.settle()
}

// texts returns and forgets the texts user received.
func (s *server) texts(user string) []string {
	var out []string
	for _, m := range s.p.Take("test:" + user) {
		if m.Kind == actors.OutText {
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

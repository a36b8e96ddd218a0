package actors_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/dsl"
)

var playBot = map[string]string{
	"main.bot":   "dialog main do\n  say \"hi\"\nend\n",
	"master.bot": "task event: \"bump\" do\n  count = (count ?? 0) + 1\nend\n",
}

func (s *server) play(bot, src string, timeout time.Duration) (any, error) {
	s.tb.Helper()
	proc, err := dsl.CompileSnippet(src)
	if err != nil {
		s.tb.Fatal(err)
	}
	return s.rt.Play(context.Background(), bot, proc, timeout)
}

func TestPlay(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{
		"b": playBot, "nomaster": {"main.bot": playBot["main.bot"]},
	})
	defer s.stop()

	got, err := s.play("b", "count = 41\nreply count + 1", time.Second)
	if err != nil || dsl.Format(got) != "42" {
		t.Fatalf("play = %v, %v; want 42", got, err)
	}
	got, err = s.play("b", "emit \"bump\", to: :master", time.Second)
	if err != nil || got != nil {
		t.Fatalf("play without reply = %v, %v; want nil", got, err)
	}
	s.settle()
	if got, _ := s.play("b", "reply count", time.Second); dsl.Format(got) != "42" {
		t.Errorf("count after bump = %v, want 42", got) // 41 + 1: the variable was kept
	}

	_, err = s.play("b", "x = 1\ny = x + nothing.at.all * 2", time.Second)
	var rerr *dsl.RuntimeError
	if !errors.As(err, &rerr) || rerr.Pos.Line != 2 {
		t.Errorf("run-time error = %v, want one at line 2", err)
	}
	if _, err := s.play("nomaster", "reply 1", time.Second); !errors.Is(err, actors.ErrNoMaster) {
		t.Errorf("bot without master: %v, want ErrNoMaster", err)
	}
	if _, err := s.play("ghost", "reply 1", time.Second); !errors.Is(err, botserver.ErrUnknownBot) {
		t.Errorf("unknown bot: %v, want ErrUnknownBot", err)
	}
}

func TestPlayTimeoutStopsTheSnippet(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"b": playBot})
	defer s.stop()

	loop := "n = 0\nL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + strings.Repeat("repeat a in L do\n", 9) + "n = n + 1\n" + strings.Repeat("end\n", 9)
	if _, err := s.play("b", loop, 100*time.Millisecond); !errors.Is(err, actors.ErrPlayTimeout) {
		t.Fatalf("endless snippet: %v, want ErrPlayTimeout", err)
	}
	if _, err := s.play("b", "pause 5\ncount = 99\nreply 1", 50*time.Millisecond); !errors.Is(err, actors.ErrPlayTimeout) {
		t.Fatalf("waiting snippet: %v, want ErrPlayTimeout", err)
	}
	s.settle()
	s.clock.Advance(time.Minute) // the pause would have ended by now
	s.settle()
	got, err := s.play("b", "reply [n ?? \"unset\", count ?? \"unset\"]", time.Second)
	if err != nil || dsl.Format(got) != `["unset","unset"]` {
		t.Errorf("after the timeouts: %v, %v; want neither snippet's writes", dsl.Format(got), err)
	}
}

// TestPlayCanceledStopsTheSnippet: a snippet whose caller's context ends
// mid-run (an endless loop, with a timeout and a step budget it would not
// reach for an hour) is stopped and its writes undone: Play returns the
// context's error, and the master answers the next input.
func TestPlayCanceledStopsTheSnippet(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Limits: actors.Limits{Script: dsl.Limits{MaxPlaySteps: 1 << 40}}},
		map[string]map[string]string{"b": playBot})
	defer s.stop()

	loop := "n = 0\nL = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + strings.Repeat("repeat a in L do\n", 12) + "n = n + 1\n" + strings.Repeat("end\n", 12)
	proc, err := dsl.CompileSnippet(loop)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.rt.Play(ctx, "b", proc, time.Hour)
		done <- err
	}()
	// a play waits in the master's mailbox behind the loop: it is running
	queued := make(chan error, 1)
	go func() {
		_, err := s.play("b", "reply 0", 30*time.Second) // a bound: it fails, not hangs, while the loop runs on
		queued <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled play: %v, want context.Canceled", err)
	}
	if err := <-queued; err != nil {
		t.Fatalf("the play queued behind the canceled one: %v", err)
	}
	got, err := s.play("b", "reply n ?? \"unset\"", time.Minute)
	if err != nil || dsl.Format(got) != "unset" {
		t.Errorf("after the cancel: %v, %v; want the master free and the loop's writes undone", dsl.Format(got), err)
	}
}

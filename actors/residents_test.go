package actors_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/platforms/platformtest"
)

// TestPassivationRacesDelivery: messages are delivered straight to
// resident instances while those instances passivate and come back all
// the time (an idle timeout of 1 ms on a fake clock that a goroutine keeps
// moving on, and pauses between messages until some instance passivated).
// No message is lost, none is handled twice, and each conversation sees
// its messages in the order they were sent.
func TestPassivationRacesDelivery(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{IdleAfter: time.Millisecond},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	stop := make(chan struct{})
	driven := make(chan struct{})
	go func() { // sweeps come all the time, racing the deliveries
		defer close(driven)
		for {
			select {
			case <-stop:
				return
			default:
				s.clock.Advance(s.idle / 4)
				runtime.Gosched()
			}
		}
	}()
	const users, msgs = 20, 60
	var wg sync.WaitGroup
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conv := platformtest.Conv("counter", fmt.Sprint("u", u), "")
			if err := s.rt.Deliver(conv, botserver.Inbound{Start: true}); err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < msgs; i++ {
				if err := s.rt.Deliver(conv, botserver.Inbound{Text: "inc"}); err != nil {
					t.Error(err)
					return
				}
				if i%5 == u%5 { // now and then, poll until some conversation has passivated
					for end := time.Now().Add(5 * time.Second); s.rt.Status()[0].Sessions >= users && time.Now().Before(end); {
						<-time.After(100 * time.Microsecond)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-driven
	s.settle()
	for u := 0; u < users; u++ {
		got := s.texts(fmt.Sprint("u", u))
		if len(got) == 0 || got[0] != "ready" {
			t.Errorf("u%d was not greeted first: %q", u, got)
			continue
		}
		got = got[1:]
		if len(got) != msgs {
			t.Errorf("u%d got %d replies, want %d: %q", u, len(got), msgs, got)
			continue
		}
		for i, text := range got {
			if want := fmt.Sprint("n=", i+1); text != want {
				t.Errorf("u%d reply %d is %q, want %q (lost, repeated or reordered)", u, i, text, want)
				break
			}
		}
	}
}

// TestIdleTimeoutMovesLater: every turn moves a conversation's idle
// timeout later; the timer armed for an earlier time may fire early, and
// the timeout still comes exactly one @timeout after the last message.
func TestIdleTimeoutMovesLater(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"idle": {"main.bot": `@timeout "1h"
dialog main do
  say "hi"
end
dialog __timeout__ do
  say "timed out"
end
dialog __unknown__ do
  say message
end
`}})
	defer s.stop()
	s.say("idle", "u", "one")
	s.clock.Advance(30 * time.Minute)
	s.say("idle", "u", "two") // the timeout is now due at 1h30
	s.texts("u")
	s.clock.Advance(40 * time.Minute) // 1h10: past the first deadline, not the second
	s.settle()
	if got := s.texts("u"); len(got) != 0 {
		t.Fatalf("40 minutes after the last message got %q, want nothing", got)
	}
	s.clock.Advance(21 * time.Minute) // 1h31
	s.settle()
	if got := s.texts("u"); len(got) != 1 || got[0] != "timed out" {
		t.Fatalf("an hour after the last message got %q, want the timeout", got)
	}
}

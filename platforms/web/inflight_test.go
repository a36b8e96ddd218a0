package web_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/platforms/web"

	"github.com/gorilla/websocket"
)

// holdingGateway is the runtime, except that it holds back the Done of
// every message it delivers until the test releases them: to the web
// platform those messages are still waiting for their turns.
type holdingGateway struct {
	*actors.Runtime

	mu        sync.Mutex
	held      []func() // Done of messages whose turns have run
	delivered int
	inFlight  int // delivered and not released
	most      int // the largest inFlight seen
}

func (g *holdingGateway) Deliver(conv botserver.Conversation, in botserver.Inbound) error {
	done := in.Done
	g.mu.Lock()
	g.delivered++
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	g.mu.Unlock()
	in.Done = func() {
		g.mu.Lock()
		g.held = append(g.held, done)
		g.mu.Unlock()
	}
	return g.Runtime.Deliver(conv, in)
}

// state returns how many messages were delivered, and how many of those
// had their turns run and wait to be released.
func (g *holdingGateway) state() (delivered, held int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.delivered, len(g.held)
}

// release hands the held Dones to the platform.
func (g *holdingGateway) release() {
	g.mu.Lock()
	held := g.held
	g.held, g.inFlight = nil, g.inFlight-len(held)
	g.mu.Unlock()
	for _, done := range held {
		done()
	}
}

// TestFloodingClientWaits: a client that sends faster than its messages
// are handled has at most MaxInFlight of them in the server; the server
// stops reading it meanwhile, loses nothing and answers in order.
func TestFloodingClientWaits(t *testing.T) {
	g := &holdingGateway{}
	e := startEnv(t, web.Options{Gateway: g, MaxInFlight: 4}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	c.Expect("Say something and I will say it back.") // the Start holds one token
	const n = 20
	for i := range n {
		c.Say(fmt.Sprint("m", i))
	}
	for next, released := 0, 0; next < n; {
		// Wait until the turn of every delivered message has run: the
		// reader then waits for a token, or has read everything.
		testkit.WaitFor(t, 10*time.Second, func() bool {
			d, h := g.state()
			return h == d-released && (d == n+1 || h == 4)
		}, "the delivered messages' turns")
		d, _ := g.state()
		for ; next < d-1; next++ { // the Start is not a text
			c.Expect(fmt.Sprint("m", next))
		}
		g.release()
		released = d
	}
	g.mu.Lock()
	most := g.most
	g.mu.Unlock()
	if most != 4 {
		t.Errorf("at most %d messages in flight, want MaxInFlight = 4", most)
	}
	if e.web.Stats().Paused.Load() == 0 {
		t.Error("Stats.Paused = 0: the reader never waited")
	}
}

// TestStuckConversationCloses1013: a client whose messages are not
// handled within PongWait is disconnected with 1013 (try again later).
func TestStuckConversationCloses1013(t *testing.T) {
	g := &holdingGateway{}
	e := startEnv(t, web.Options{Gateway: g, MaxInFlight: 2, PingInterval: 50 * time.Millisecond, PongWait: 300 * time.Millisecond},
		[]string{"echo"}, nil)
	c := e.dial("echo", nil)
	for i := range 5 {
		c.Say(fmt.Sprint("m", i)) // none is ever released
	}
	if got := c.CloseCode(); got != websocket.CloseTryAgainLater {
		t.Errorf("close code %d, want 1013", got)
	}
}

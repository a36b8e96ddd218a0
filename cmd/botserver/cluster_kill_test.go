package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/internal/testkit"
	"botserver/persistence"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

// counterClient talks to the counter bot in a closed loop, moving to
// another member when its connection fails, and records what it saw.
type counterClient struct {
	members func() []string // the HTTP addresses of the members to try, in order
	user    string
	token   string

	mu      sync.Mutex
	last    int       // the last n seen
	lastTS  int64     // its frame's time
	lastVia string    // the member it came through
	repeats int       // frames seen twice (a reply resent around a failover)
	lastAt  time.Time // when it was seen
	err     error     // a counter that did not increase
	where   string    // the member of the current session, and when it began
	since   time.Time
	recent  []string // its last frames and sessions, for a failure's message
}

// recentFrames is how many of a client's last frames and sessions its
// failure message shows.
const recentFrames = 48

// note records a frame or a session for the failure message (c.mu held).
func (c *counterClient) note(format string, args ...any) {
	c.recent = append(c.recent, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	if len(c.recent) > recentFrames {
		c.recent = c.recent[1:]
	}
}

// run sends "inc" and waits for its answer until ctx ends. The first
// member is start; after a failure the others are tried in turn.
func (c *counterClient) run(ctx context.Context, start int) {
	next := start
	for ctx.Err() == nil {
		addrs := c.members()
		addr := addrs[next%len(addrs)]
		next++
		c.session(ctx, addr)
	}
}

// session is one connection: it dials (resuming the identity), then
// loops.
func (c *counterClient) session(ctx context.Context, addr string) {
	q := url.Values{}
	c.mu.Lock()
	if c.user != "" {
		q.Set("user", c.user)
		q.Set("token", c.token)
	}
	c.mu.Unlock()
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	ws, _, err := d.DialContext(ctx, "ws://"+addr+"/ws/counter?"+q.Encode(), nil)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.where, c.since = addr, time.Now()
	c.note("connected to %s", addr)
	c.mu.Unlock()
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	sent := false
	for ctx.Err() == nil {
		if !sent {
			if ws.WriteJSON(map[string]string{"type": "message", "text": "inc"}) != nil {
				return
			}
			c.mu.Lock()
			c.note("sent inc via %s", addr)
			c.mu.Unlock()
			sent = true
		}
		ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.note("connection to %s ended: %v", addr, err)
			c.mu.Unlock()
			return
		}
		if !bytes.Contains(data, []byte(`"history":true`)) || !bytes.Contains(data, []byte(`"from":"user"`)) {
			c.mu.Lock()
			c.note("via %s: %s", addr, data) // all but the user's own messages in a history
			c.mu.Unlock()
		}
		var f map[string]any
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		if f["type"] == "welcome" {
			c.mu.Lock()
			if user := f["user"].(string); c.user != "" && user != c.user && c.err == nil {
				// its token was refused: the members do not share one secret
				c.err = fmt.Errorf("user %s: resumed on %s as %s: the identity was lost", c.user, addr, user)
			}
			c.user, c.token = f["user"].(string), f["token"].(string)
			c.mu.Unlock()
			continue
		}
		if f["type"] != "message" || f["from"] == "user" {
			continue
		}
		text, _ := f["text"].(string)
		n, err := strconv.Atoi(strings.TrimPrefix(text, "n="))
		if !strings.HasPrefix(text, "n=") || err != nil {
			continue
		}
		if f["history"] == true {
			// A reply the conversation sent before this connection joined
			// it is in the history it got (as on one node): the newer ones
			// answer what was sent; the others were seen already.
			if c.seen(n) {
				sent = false
			}
			continue
		}
		ts, _ := f["ts"].(float64)
		c.saw(n, int64(ts), addr)
		sent = false
	}
}

// seen records n from a history frame if it is newer than the last n
// seen, and reports whether it was.
func (c *counterClient) seen(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= c.last {
		return false
	}
	c.last, c.lastAt = n, time.Now()
	return true
}

func (c *counterClient) saw(n int, ts int64, via string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n == c.last && ts == c.lastTS {
		// The same frame of the same turn (its time), again: around a
		// failover a reply can reach a connection twice (decisions.md,
		// "A duplicate's reply is sent again"). A rolled-back turn would
		// come with a new time.
		c.repeats++
		return
	}
	if n <= c.last && c.err == nil {
		c.err = fmt.Errorf("user %s: n=%d (ts %d, via %s) after n=%d (ts %d, via %s): an acknowledged turn was lost; its last frames:\n  %s",
			c.user, n, ts, via, c.last, c.lastTS, c.lastVia, strings.Join(c.recent, "\n  "))
	}
	c.last, c.lastAt, c.lastTS, c.lastVia = n, time.Now(), ts, via
}

// String describes the client for a failure message.
func (c *counterClient) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%s: n=%d at %s, connected to %s since %s; its last frames:\n  %s", c.user, c.last,
		c.lastAt.Format("15:04:05.000"), c.where, c.since.Format("15:04:05.000"), strings.Join(c.recent, "\n  "))
}

func (c *counterClient) state() (int, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.lastAt, c.err
}

// killMember stops a member as a crash would, as seen by the others: its
// listener and its websockets close, its cluster remote and actor system
// stop, its runtime's actors stop without waiting for anything; its store
// handle stays open, so writes it had queued still try to commit.
func killMember(m *Main) {
	m.ready.Store(false)
	m.node.Kill()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m.endpoint.Shutdown(ctx)
	m.web.Shutdown(ctx)
	m.rt.Close(ctx)
}

// waitingOn opens conversations on member via until one is hosted on
// host, and has it wait on its ask timeout.
func waitingOn(t *testing.T, via, host *Main) *testkit.WSClient {
	t.Helper()
	for range 200 {
		c, welcome := dialWS(t, via, "counter", nil)
		// the welcome's user is the conversation's address ("web:8f2c")
		if via.node.Owner("counter", welcome.Str("user")) != host.node.Self() {
			c.WS.Close()
			continue
		}
		c.Expect("ready")
		c.Say("wait")
		c.Expect("waiting")
		return c
	}
	t.Fatal("no conversation landed on the member")
	return nil
}

// TestClusterKillOneOfThree: 60 clients spread over three members talk to
// a counter bot; 6 more wait on an ask timeout. One member stalls (its
// writes held back) and is killed mid-run. Every client's counter
// strictly increases (no acknowledged turn is lost), every client is
// answered again within 10 s of the kill, the ask timeouts armed on the
// dead member fire on its successors, the dead member's stale writes,
// released once its successors took its conversations over, are all
// refused (0 applied), and no goroutine of the members outlives them.
func TestClusterKillOneOfThree(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	before := goleak.IgnoreCurrent()
	spies := make([]*storeSpy, 3)
	ms := startMembersWrapped(t, db, 3, func(n int, b persistence.Backend) persistence.Backend {
		spies[n] = &storeSpy{Backend: b}
		return spies[n]
	})
	var alive atomic.Pointer[[]string]
	addrs := []string{ms[0].endpoint.Addr(), ms[1].endpoint.Addr(), ms[2].endpoint.Addr()}
	alive.Store(&addrs)
	members := func() []string { return *alive.Load() }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	clients := make([]*counterClient, 60)
	for i := range clients {
		clients[i] = &counterClient{members: members}
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients[i].run(ctx, i)
		}()
	}
	waitFor(t, 30*time.Second, "every client counts", func() bool {
		for _, c := range clients {
			if n, _, _ := c.state(); n < 3 {
				return false
			}
		}
		return true
	})

	victim := ms[2]
	var waiting []*testkit.WSClient
	for i := range 6 {
		waiting = append(waiting, waitingOn(t, ms[i%2], victim))
	}
	// The victim stalls: what it writes from now on is held back.
	for _, s := range spies {
		s.watch()
	}
	spies[2].hold()
	waitFor(t, 10*time.Second, "writes held on the stalled member", func() bool { return spies[2].heldFenced() >= 5 })
	killMember(victim)
	left := []string{ms[0].endpoint.Addr(), ms[1].endpoint.Addr()}
	alive.Store(&left)
	killedAt := time.Now()
	t.Logf("killed %s", victim.node.Self())

	if !pollUntil(10*time.Second, func() bool {
		for _, c := range clients {
			if _, at, _ := c.state(); !at.After(killedAt) {
				return false
			}
		}
		return true
	}) {
		for _, c := range clients {
			if _, at, _ := c.state(); !at.After(killedAt) {
				t.Errorf("not answered since the kill: %s", c)
				for _, m := range ms[:2] {
					t.Logf("  %s", m.node.Explain("counter", c.userID()))
				}
			}
		}
		t.FailNow()
	}
	t.Logf("every client answered %v after the kill", time.Since(killedAt).Round(time.Millisecond))
	for _, c := range waiting {
		c.Expect("timed out") // armed on the dead member, fired by its successor
	}
	t.Logf("every ask timeout fired %v after the kill", time.Since(killedAt).Round(time.Millisecond))

	// The dead member's stalled writes reach the store now, after its
	// successors loaded its conversations: every one is refused, and the
	// clients go on counting from the successors' state.
	spies[2].release()
	waitFor(t, 30*time.Second, "the stale writes' outcomes", spies[2].settled)
	refused, err := staleWrites(spies[2], spies[0], spies[1])
	if err != nil {
		t.Error(err)
	}
	if refused == 0 {
		t.Error("no stale write was tried: the test held none that a successor took over")
	}
	t.Logf("%d stale writes refused, 0 applied", refused)
	counted := make([]int, len(clients))
	for i, c := range clients {
		counted[i], _, _ = c.state()
	}
	waitFor(t, 20*time.Second, "every client counts on", func() bool {
		for i, c := range clients {
			if n, _, _ := c.state(); n < counted[i]+2 {
				return false
			}
		}
		return true
	})
	cancel()
	wg.Wait()
	for _, c := range clients {
		if _, _, err := c.state(); err != nil {
			t.Error(err)
		}
	}
	for _, m := range ms[:2] {
		if s := m.node.Status(); s.Repaired != 0 {
			t.Errorf("%s repaired %d conversations' records (a defect)", s.Self, s.Repaired)
		}
	}

	// No goroutine of the members is left once the survivors shut down
	// (none stuck on the dead member), nor of the dead one.
	for _, c := range waiting {
		c.WS.Close()
	}
	for _, m := range ms {
		m.Close(context.Background())
	}
	// goleak's own retries wait about 0.4 s: give slow exits on a loaded
	// machine longer (a leak stays)
	var leaked error
	if !pollUntil(15*time.Second, func() bool { leaked = goleak.Find(before); return leaked == nil }) {
		t.Error(leaked)
	}
}

// userID is the client's conversation address ("web:...").
func (c *counterClient) userID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

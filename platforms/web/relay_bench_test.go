package web_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"botserver/platforms/web"

	"github.com/gorilla/websocket"
)

// BenchmarkGroupRelay: a message from one member of a 100-member room (the
// rooms example) to the other 99, end to end over websockets: the sender's
// frame → its conversation → the room's group → 99 conversations → 99
// frames. One message at a time, senders in turn; it reports the time from
// the send until each receiver has the message (p50, p99) and until the
// last of the 99 has it (last-p50, last-p99). Every conversation and the
// group write their state to a badger store on disk.
func BenchmarkGroupRelay(b *testing.B) {
	const members = 100
	e := startEnv(b, web.Options{}, []string{"rooms"}, nil)
	opener := e.dial("rooms", nil)
	opener.Text()
	opener.Say("open bench")
	opener.Text()
	r := &relay{done: make(chan struct{})}
	conns := make([]*websocket.Conn, members)
	for i := range conns {
		c := e.dial("rooms", url.Values{"g": {"~bench"}})
		conns[i] = c.WS
		go r.read(c.WS)
	}
	r.wait(b, "every member to see the room full")
	b.ResetTimer()
	for n := range b.N {
		r.start(n, members-1)
		msg, _ := json.Marshal(map[string]string{"type": "message", "text": "relay " + strconv.Itoa(n)})
		if err := conns[n%members].WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		r.wait(b, fmt.Sprintf("relay %d to reach %d members", n, members-1))
	}
	b.StopTimer()
	slices.Sort(r.each)
	slices.Sort(r.last)
	b.ReportMetric(ms(pct(r.each, 50)), "p50-ms")
	b.ReportMetric(ms(pct(r.each, 99)), "p99-ms")
	b.ReportMetric(ms(pct(r.last, 50)), "last-p50-ms")
	b.ReportMetric(ms(pct(r.last, 99)), "last-p99-ms")
}

// relay follows one message at a time to its receivers. Before the first,
// it waits for every member to be told that the room has 100 members.
type relay struct {
	mu      sync.Mutex
	n       int // the message under way (-1 while setting up)
	sent    time.Time
	missing int           // receivers that have not had it yet
	full    int           // members told the room is full (setting up)
	done    chan struct{} // closed when missing (or the setup) reaches 0
	each    []time.Duration
	last    []time.Duration
}

func (r *relay) start(n, receivers int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n, r.missing, r.done, r.sent = n, receivers, make(chan struct{}), time.Now()
}

func (r *relay) wait(tb testing.TB, what string) {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	select {
	case <-done:
	case <-time.After(time.Minute):
		tb.Fatalf("timed out waiting for %s", what)
	}
}

// read takes a member's frames until its connection closes.
func (r *relay) read(ws *websocket.Conn) {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f struct{ Type, Text string }
		if json.Unmarshal(data, &f) != nil || f.Type != "message" {
			continue
		}
		r.got(f.Text)
	}
}

func (r *relay) got(text string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if text == "room: 100 in bench now" {
		if r.full++; r.full == 100 {
			close(r.done)
		}
		return
	}
	n, err := strconv.Atoi(strings.TrimPrefix(text, "someone: relay "))
	if err != nil || n != r.n || r.missing == 0 {
		return
	}
	r.each = append(r.each, now.Sub(r.sent))
	if r.missing--; r.missing == 0 {
		r.last = append(r.last, now.Sub(r.sent))
		close(r.done)
	}
}

// pct returns the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

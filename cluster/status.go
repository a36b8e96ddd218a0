package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"botserver"
	pb "botserver/proto"
)

// Stats are a member's cluster counters (exported to Prometheus by the
// metrics package).
type Stats struct {
	Forwarded atomic.Int64 // inputs sent to the member that hosts them (resends included)
	Received  atomic.Int64 // inputs another member forwarded here
	Resent    atomic.Int64 // inputs sent again: their owner changed or stayed silent
	GivenUp   atomic.Int64 // inputs no member acknowledged after maxAttempts sends
	Frames    atomic.Int64 // frames sent to members holding a conversation's connections
	Views     atomic.Int64 // changes of the shard table (handovers)
	Unknown   atomic.Int64 // envelopes of an unknown kind or version, dropped
	Dropped   atomic.Int64 // inputs and attaches not kept for want of room or parked too long (park.go)
	Repaired  atomic.Int64 // conversations with a connection here found without their record (a defect; gateway.go)
}

// Stats returns the node's counters.
func (n *Node) Stats() *Stats { return &n.stats }

// Status is a member's view of the cluster (admin status, serve's log).
type Status struct {
	Self        string   `json:"self"`
	Members     []string `json:"members"`
	OwnedShards int      `json:"owned_shards"`
	Shards      int      `json:"shards"`
	CutOff      string   `json:"cut_off,omitempty"`
	Pending     int      `json:"pending_inputs"`
	Forwarded   int64    `json:"forwarded"`
	Received    int64    `json:"received"`
	Resent      int64    `json:"resent"`
	GivenUp     int64    `json:"given_up"`
	Frames      int64    `json:"frames"`
	Handovers   int64    `json:"handovers"`
	Unknown     int64    `json:"unknown_envelopes"`
	Parked      int      `json:"parked"`  // inputs and attaches waiting for their bot to start here
	Dropped     int64    `json:"dropped"` // of those, and of envelopes kept before the first view: not kept
	Fenced      int64    `json:"fenced_writes"`
	Repaired    int64    `json:"repaired"` // conversations with a connection here found without their record (a defect)
	// Error says why a member's status is missing (Members).
	Error string `json:"error,omitempty"`
}

// Status returns the member's view now.
func (n *Node) Status() Status {
	s := Status{Self: n.self, Shards: Shards, Pending: n.pending.len(),
		Forwarded: n.stats.Forwarded.Load(), Received: n.stats.Received.Load(), Resent: n.stats.Resent.Load(),
		GivenUp: n.stats.GivenUp.Load(), Frames: n.stats.Frames.Load(), Handovers: n.stats.Views.Load(),
		Unknown: n.stats.Unknown.Load(), Parked: n.parked.len(), Dropped: n.stats.Dropped.Load(),
		Repaired: n.stats.Repaired.Load()}
	if t := n.view.Load(); t != nil {
		s.OwnedShards = t.owned
		for _, m := range t.members {
			s.Members = append(s.Members, m.Address)
		}
	}
	if err := n.Unavailable(); err != nil {
		s.CutOff = err.Error()
	}
	if n.opts.Fenced != nil {
		s.Fenced = n.opts.Fenced()
	}
	return s
}

// ClusterStatus returns every member's status: this one's, and each other's as
// it answers within ctx (a member that does not is listed with Error set).
func (n *Node) ClusterStatus(ctx context.Context) []Status {
	t := n.view.Load()
	out := []Status{n.Status()}
	if t == nil {
		return out
	}
	var others []string
	for _, m := range t.members {
		if m.Address != n.self {
			others = append(others, m.Address)
		}
	}
	id := n.ids.Add(1)
	ch := n.queries.ask(id, len(others))
	defer n.queries.forget(id)
	for _, m := range others {
		n.send(m, "status", &pb.StatusQuery{Id: id})
	}
	got := map[string]Status{}
	for len(got) < len(others) {
		select {
		case raw := <-ch:
			var s Status
			if json.Unmarshal(raw, &s) == nil && slices.Contains(others, s.Self) {
				got[s.Self] = s
			}
		case <-ctx.Done():
			for _, m := range others {
				if _, ok := got[m]; !ok {
					got[m] = Status{Self: m, Error: "no answer: " + ctx.Err().Error()}
				}
			}
		}
	}
	for _, m := range others {
		out = append(out, got[m])
	}
	return out
}

// answerStatus answers another member's StatusQuery.
func (n *Node) answerStatus(from string, q *pb.StatusQuery) {
	raw, _ := json.Marshal(n.Status())
	n.send(from, "status_reply", &pb.StatusReply{Id: q.GetId(), Status: raw})
}

// waiters are this member's questions to other members (status queries,
// admin calls) waiting for their answers, by id.
type waiters[T any] struct {
	mu sync.Mutex
	m  map[uint64]chan T
}

func (q *waiters[T]) init() { q.m = map[uint64]chan T{} }

// ask records question id, which n answers may come for.
func (q *waiters[T]) ask(id uint64, n int) chan T {
	q.mu.Lock()
	defer q.mu.Unlock()
	ch := make(chan T, n)
	q.m[id] = ch
	return ch
}

func (q *waiters[T]) forget(id uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.m, id)
}

// answer hands an answer to question id, if it is still asked (and has
// room: more answers than asked for are dropped).
func (q *waiters[T]) answer(id uint64, v T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if ch := q.m[id]; ch != nil {
		select {
		case ch <- v:
		default:
		}
	}
}

// Explain describes what this member knows of one address: its owner,
// the inputs for it waiting for their acknowledgement, the members
// attached to it here, and this member's attach to it (for diagnostics).
func (n *Node) Explain(bot, addr string) string {
	pending := 0
	n.pending.mu.Lock()
	for _, in := range n.pending.m {
		if in.f.Bot == bot && in.f.Addr == addr {
			pending++
		}
	}
	n.pending.mu.Unlock()
	gw := "none"
	if conv, ok := botserver.ParseAddress(bot, addr); ok {
		n.gw.mu.Lock()
		if rc := n.gw.convs[conv]; rc != nil {
			gw = fmt.Sprintf("owner %s, %d attaching", rc.owner, rc.attaching)
		}
		n.gw.mu.Unlock()
	}
	return fmt.Sprintf("%s: owner %s, %d pending, attached members %v, gateway %s",
		n.self, n.Owner(bot, addr), pending, n.subs.of(bot, addr), gw)
}

package cluster

import "sync/atomic"

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
}

// Status returns the member's view now.
func (n *Node) Status() Status {
	s := Status{Self: n.self, Shards: Shards, Pending: n.pending.len(),
		Forwarded: n.stats.Forwarded.Load(), Received: n.stats.Received.Load(), Resent: n.stats.Resent.Load(),
		GivenUp: n.stats.GivenUp.Load(), Frames: n.stats.Frames.Load(), Handovers: n.stats.Views.Load(),
		Unknown: n.stats.Unknown.Load()}
	if t := n.view.Load(); t != nil {
		s.OwnedShards = t.owned
		for _, m := range t.members {
			s.Members = append(s.Members, m.Address)
		}
	}
	if err := n.Unavailable(); err != nil {
		s.CutOff = err.Error()
	}
	return s
}

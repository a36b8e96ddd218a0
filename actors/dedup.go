package actors

import (
	"slices"

	"botserver"
	"botserver/dsl"
)

// Input ids: a delivery may carry an id (botserver.Inbound.ID; between
// nodes, the id of a forwarded event, query or reply). An instance keeps
// the ids of its last RecentInputs handled inputs in its persisted state
// (dsl.State.Recent), and drops a delivery whose id is there: its Done is
// called, no turn runs. The turn that handles an input records its id in
// the state it writes, so the id is durable exactly when the turn is: a
// delivery resent after the turn's write was lost runs, one resent after
// it was kept is dropped, even by a later incarnation that loaded the
// state from the store. Id 0 means none: such inputs are never filtered.

// RecentInputs is how many input ids an instance remembers: the ids of its
// last 32 handled inputs. An id older than those is accepted again (a
// sender that resends does so for its in-flight inputs, far fewer).
const RecentInputs = 32

// inputID returns the id of the delivery being handled (0: none).
func (a *instance) inputID() uint64 {
	if d, ok := a.cur.(*deliver); ok {
		return d.id
	}
	return 0
}

// duplicate reports whether msg is a delivery whose id the instance has
// handled; it is counted, and dropped by the caller.
func (a *instance) duplicate(msg any) bool {
	d, ok := msg.(*deliver)
	if !ok || d.id == 0 || !slices.Contains(a.st.Recent, d.id) {
		return false
	}
	a.rt().metrics.duplicate(a.bot.id)
	a.bot.log.Debug("duplicate input dropped", "conv", a.addr, "id", d.id)
	return true
}

// remember records id as handled, forgetting the oldest beyond
// RecentInputs, and reports whether it was new. It never writes into the
// array of an earlier slice header, so a state copy that shares it keeps
// its own ids.
func remember(st *dsl.State, id uint64) bool {
	if id == 0 || slices.Contains(st.Recent, id) {
		return false
	}
	r := st.Recent
	st.Recent = append(r[max(0, len(r)-RecentInputs+1):], id)
	return true
}

// handledHere reports whether this incarnation handled input id (its
// turn's effects are out, or will be), as opposed to one before it, on
// this member or another.
func (a *instance) handledHere(id uint64) bool {
	r := a.st.Recent
	return slices.Contains(r[max(0, len(r)-int(a.ownIDs)):], id)
}

// resendReply sends the user, again, what the turn that handled a
// duplicate of the user's message sent them, from the conversation's
// history: the input was sent again because its acknowledgement was lost
// (the member that ran its turn died), and its replies may have been lost
// with it. The frames are marked Resent and keep their time, so that a
// connection that has shown them drops them. Only platforms that keep a
// history can be sent a reply again (not Slack: a post goes out at most
// once).
func (a *instance) resendReply(msg any) {
	d, ok := msg.(*deliver)
	if !ok || !d.client || a.kind != kindSession || a.handledHere(d.id) || !a.keepsHistory() {
		return // this incarnation's own reply is out, or on its way
	}
	var frames []botserver.Outgoing
	a.scanHistory(func(_ int, turn uint64, raw []byte) {
		if recordInput(raw) != d.id {
			return
		}
		entries, err := decodeRecord(raw)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !e.FromUser && e.Kind != botserver.OutTyping {
				e.Resent, e.Turn = true, turn
				frames = append(frames, e)
			}
		}
	})
	for _, out := range frames {
		a.toClient(out)
	}
}

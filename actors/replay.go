package actors

import (
	"errors"
	"strings"

	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// Replay: a write the store refused (ErrFenced: another activation loaded
// the state; ErrConflict: the user record changed) or whose outcome it
// could not learn (ErrUnknownOutcome) restarts the instance. Before the
// panic, stashReplay keeps, for each turn whose effects are not out, its
// input, the state version its write carried and its effects; the next
// incarnation loads the stored state and, first and in order, runs those
// inputs again (replay). After ErrUnknownOutcome, a turn whose write is
// found applied (the loaded version is at least its own) is not run again:
// its effects go out instead.

// replayed is one turn a refused or uncertain write left to do again.
type replayed struct {
	in      any          // its input; nil when the turn before it had the same
	ver     uint64       // the state version its write carried (0: none)
	effects []dsl.Effect // what it would have sent
}

// replayStash is what an incarnation leaves the next one.
type replayStash struct {
	turns   []replayed
	unknown bool // the write's outcome is unknown: check versions
}

// rerun reports whether a refused write's inputs run again: the store
// refused it for a newer activation or a changed shared record, or could
// not say whether it was applied (the reload finds out).
func rerun(err error) bool {
	return errors.Is(err, persistence.ErrFenced) || errors.Is(err, persistence.ErrConflict) ||
		errors.Is(err, persistence.ErrUnknownOutcome)
}

// stateVersion returns the version of the state op in ops (stateOps puts
// it first), or 0 when the write does not carry the state.
func (a *instance) stateVersion(ops []persistence.Op) uint64 {
	if len(ops) == 0 {
		return 0
	}
	k := ops[0].Key
	if strings.HasPrefix(k, persistence.PrefixState) && k[len(persistence.PrefixState):] == a.addr {
		return ops[0].Version
	}
	return 0
}

// stashReplay keeps the turns whose effects are not out for the next
// incarnation (one activity until it takes them: Settle waits); a user
// record that conflicted is dropped from the cache so that it is reloaded.
func (a *instance) stashReplay(err error) {
	a.bot.log.Warn("write refused; the instance reloads and runs its pending inputs again", "conv", a.addr, "err", err)
	st := &replayStash{unknown: errors.Is(err, persistence.ErrUnknownOutcome)}
	var last any
	for i := range a.outbox {
		t := &a.outbox[i]
		if t.sent {
			continue
		}
		r := replayed{in: t.in, ver: t.ver, effects: t.effects}
		if t.in != nil && t.in == last {
			r.in = nil // the turn before ran the same input: once is enough
		}
		last = t.in
		st.turns = append(st.turns, r)
	}
	if errors.Is(err, persistence.ErrConflict) && a.user != nil {
		a.bot.users.forget(a.conv.UserID(), a.user)
	}
	if len(st.turns) > 0 {
		a.rt().activity.Add(1)
		if _, had := a.bot.replay.Swap(a.addr, st); had {
			a.rt().activity.Add(-1)
		}
	}
}

// replay does again, first and in order, the turns a previous incarnation
// left (see stashReplay). Their inputs were marked done when first
// handled. An incarnation that cannot load (or is quarantined) drops them,
// as it would drop new inputs.
func (a *instance) replay(ctx actor.Context) {
	v, ok := a.bot.replay.LoadAndDelete(a.addr)
	if !ok {
		return
	}
	defer a.rt().activity.Add(-1)
	st := v.(*replayStash)
	if a.loadErr != nil || a.stopping {
		a.bot.log.Error("inputs to run again dropped", "conv", a.addr, "turns", len(st.turns), "err", a.loadErr)
		return
	}
	for _, r := range st.turns {
		if st.unknown && r.ver != 0 && a.loadedVersion >= r.ver {
			a.dispatch(r.effects) // it was committed after all: only its effects are missing
			continue
		}
		if r.in == nil {
			continue
		}
		a.cur = r.in
		a.handle(ctx, r.in)
		a.cur = nil
	}
}

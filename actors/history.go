package actors

import (
	"botserver"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// A conversation's history is its recent client frames, both directions:
// the user's messages and client events, and the bot's messages, images
// and events (typing is not kept), for platforms that show it
// (HistoryKeeper). It lives in the store in a ring of Options.History
// slots per conversation (persistence.HistoryKey), one record per turn that
// made frames (so the ring holds at least the last Options.History
// frames), written in the same write as its turn: a history never shows
// what a crash took back. Nothing is kept in memory but the next slot:
// instance.histSlot is 1 + the slot written next, or 0 until a scan finds
// it, when a conversation first records something after it starts (it
// fits in the instance's padding: no memory per idle conversation).

// HistoryKeeper is implemented by platforms whose conversations keep a
// history: their clients come back to a conversation and are shown it so
// far. Conversations on other platforms keep none.
type HistoryKeeper interface {
	KeepsHistory() bool
}

// History limits.
const (
	// DefaultHistory is how many frames a conversation keeps by default.
	DefaultHistory = 50
	// MaxHistory is the largest Options.History.
	MaxHistory = 200
	// MaxHistoryText is how much text (or encoded event payload) a history
	// entry keeps: longer text is cut and ends in "…", a larger payload is
	// kept as nil.
	MaxHistoryText = 16 << 10
	// MaxHistoryRecord bounds the record of one turn: past it, the turn's
	// earliest frames are left out. A conversation's history takes at most
	// Options.History times this in the store.
	MaxHistoryRecord = 64 << 10
)

// Synthetic effects: released in order with a turn's own effects.
const (
	effEcho    dsl.EffectKind = 200 + iota // the user's message, for their other clients (Payload: the source)
	effRestart                             // the conversation was restarted
)

// historyLimit returns how many frames a conversation keeps (0: none).
func (r *Runtime) historyLimit() int { return max(r.opts.History, 0) }

// keepsHistory reports whether the session's platform shows a history.
func (a *instance) keepsHistory() bool {
	k, ok := a.rt().platform(a.conv.Platform).(HistoryKeeper)
	return ok && k.KeepsHistory() && a.rt().historyLimit() > 0
}

// checkHistory validates Options.History and applies its default.
func checkHistory(opts *Options) error {
	switch {
	case opts.History == 0:
		opts.History = DefaultHistory
	case opts.History > MaxHistory:
		return fmt.Errorf("actors: Options.History is %d; at most %d frames are kept", opts.History, MaxHistory)
	}
	return nil
}

// record stamps the turn's client effects with its time and returns the
// history writes of the turn (with the restart's deletions) and the
// effects to release, led by the synthetic ones the turn needs. d is the
// platform's delivery the turn handles (nil for other inputs).
func (a *instance) record(in dsl.Input, d *deliver, effects []dsl.Effect, now time.Time) ([]persistence.Op, []dsl.Effect) {
	if a.kind != kindSession {
		return nil, effects
	}
	keep := a.keepsHistory()
	var entries []botserver.Outgoing
	if e, ok := userEntry(in, d); ok && keep {
		e.TS = now
		entries = append(entries, e)
	}
	for i := range effects {
		if out, ok := clientOutgoing(&effects[i]); ok {
			effects[i].At, effects[i].Turn = now, a.st.Turn
			if out.Kind != botserver.OutTyping && keep {
				out.TS = now
				entries = append(entries, out)
			}
		}
	}
	var synth []dsl.Effect
	if d != nil && d.restart {
		synth = append(synth, dsl.Effect{Kind: effRestart, At: now, Turn: a.st.Turn})
	}
	if d != nil && d.client && d.source != 0 && in.Kind == dsl.InMessage {
		synth = append(synth, dsl.Effect{Kind: effEcho, Text: in.Text, Payload: d.source, At: now, Turn: a.st.Turn})
	}
	if len(synth) > 0 {
		effects = append(synth, effects...)
	}
	if !keep {
		return nil, effects
	}
	return a.historyOps(entries, d != nil && d.restart), effects
}

// userEntry is the history entry of the user's message or client event.
func userEntry(in dsl.Input, d *deliver) (botserver.Outgoing, bool) {
	if d == nil || !d.client {
		return botserver.Outgoing{}, false
	}
	switch in.Kind {
	case dsl.InMessage:
		return botserver.Outgoing{Kind: botserver.OutText, Text: in.Text, FromUser: true}, true
	case dsl.InEvent:
		return botserver.Outgoing{Kind: botserver.OutEvent, Name: in.Event.Name, Payload: in.Event.Payload, FromUser: true}, true
	}
	return botserver.Outgoing{}, false
}

// clientOutgoing is what a session's effect sends its client, if anything.
func clientOutgoing(e *dsl.Effect) (botserver.Outgoing, bool) {
	switch {
	case e.Kind == dsl.EffSay:
		return botserver.Outgoing{Kind: botserver.OutText, Text: e.Text, Ask: e.Ask, QuickReplies: e.QuickReplies, QuickReplyValues: e.QuickReplyValues}, true
	case e.Kind == dsl.EffShow:
		return botserver.Outgoing{Kind: botserver.OutImage, URL: e.URL}, true
	case e.Kind == dsl.EffTyping:
		return botserver.Outgoing{Kind: botserver.OutTyping, Seconds: e.Seconds}, true
	case e.Kind == dsl.EffEmit && e.Target == nil:
		return botserver.Outgoing{Kind: botserver.OutEvent, Name: e.Name, Payload: e.Payload}, true
	}
	return botserver.Outgoing{}, false
}

// historyOps returns the write of the turn's record (its last
// Options.History entries) to the next slot of the ring, after clearing
// the ring when restart is set.
func (a *instance) historyOps(entries []botserver.Outgoing, restart bool) []persistence.Op {
	limit := a.rt().historyLimit()
	if len(entries) == 0 && !restart {
		return nil
	}
	slot := 0
	if !restart {
		slot = a.nextSlot(limit)
	}
	var ops []persistence.Op
	if len(entries) > 0 {
		raw := encodeRecord(a.st.Turn, a.inputID(), entries[max(len(entries)-limit, 0):])
		ops = append(ops, persistence.Op{Key: persistence.HistoryKey(a.addr, slot), Value: raw})
		slot++
	}
	if restart {
		ops = append(ops, a.clearHistory(limit, slot)...)
	}
	a.histSlot = uint8(slot%limit + 1)
	return ops
}

// nextSlot returns the slot the next record goes to, scanning the ring
// the first time.
func (a *instance) nextSlot(limit int) int {
	if a.histSlot != 0 {
		return int(a.histSlot-1) % limit
	}
	last, slot := uint64(0), -1
	a.scanHistory(func(s int, turn uint64, _ []byte) {
		if slot < 0 || turn > last {
			last, slot = turn, s
		}
	})
	return (slot + 1) % limit
}

// clearHistory deletes every slot of the ring from slot from on (a
// restart writes its record in slot 0).
func (a *instance) clearHistory(limit, from int) []persistence.Op {
	var ops []persistence.Op
	done := map[int]bool{}
	del := func(s int) {
		if s >= from && !done[s] {
			done[s] = true
			ops = append(ops, persistence.Op{Key: persistence.HistoryKey(a.addr, s), Delete: true})
		}
	}
	for s := range limit {
		del(s)
	}
	a.scanHistory(func(s int, _ uint64, _ []byte) { del(s) }) // slots of a larger limit
	return ops
}

// scanHistory calls fn for every readable slot of the conversation's ring,
// with the turn that wrote it.
func (a *instance) scanHistory(fn func(slot int, turn uint64, raw []byte)) {
	scanHistory(a.bot, a.addr, fn)
}

func scanHistory(b *botRT, addr string, fn func(slot int, turn uint64, raw []byte)) {
	prefix := persistence.HistoryPrefix(addr)
	err := b.store.Scan(prefix, func(key string, value []byte) error {
		slot, ok := parseSlot(strings.TrimPrefix(key, prefix))
		if !ok {
			return nil // another address that begins with this one and a "/"
		}
		turn, ok := recordTurn(value)
		if !ok {
			b.log.Warn("corrupt history record skipped", "conv", addr, "key", key)
			b.rt.metrics.corrupt()
			return nil
		}
		fn(slot, turn, value)
		return nil
	})
	if err != nil {
		b.log.Error("cannot read history", "conv", addr, "err", err)
	}
}

// parseSlot reads the three digits of a slot key's end.
func parseSlot(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for i := range 3 {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// readHistory returns the conversation's stored history, oldest first.
func readHistory(b *botRT, addr string, limit int) []botserver.Outgoing {
	type record struct {
		turn    uint64
		entries []botserver.Outgoing
	}
	var all []record
	scanHistory(b, addr, func(_ int, turn uint64, raw []byte) {
		entries, err := decodeRecord(raw)
		if err != nil {
			b.log.Warn("corrupt history record skipped", "conv", addr, "err", err)
			b.rt.metrics.corrupt()
			return
		}
		for i := range entries {
			entries[i].Turn = turn
		}
		all = append(all, record{turn, entries})
	})
	slices.SortFunc(all, func(x, y record) int { return cmp.Compare(x.turn, y.turn) })
	var out []botserver.Outgoing
	for _, r := range all {
		out = append(out, r.entries...)
	}
	return out[max(len(out)-limit, 0):]
}

// History returns the recent frames of a conversation, oldest first (at
// most limit; 0 or more than Options.History: Options.History). It reads
// the store: a turn being written may or may not be in it (Attach is exact).
func (r *Runtime) History(conv botserver.Conversation, limit int) ([]botserver.Outgoing, error) {
	b := r.bot(conv.Bot)
	if b == nil {
		return nil, fmt.Errorf("%w: %s", botserver.ErrUnknownBot, conv.Bot)
	}
	if all := r.historyLimit(); limit <= 0 || limit > all {
		limit = all
	}
	if limit == 0 {
		return nil, nil
	}
	return readHistory(b, conv.Address(), limit), nil
}

// dispatchSynthetic carries out a synthetic effect (see record).
func (a *instance) dispatchSynthetic(e *dsl.Effect) {
	switch e.Kind {
	case effEcho:
		source, _ := e.Payload.(uint64)
		a.toClient(botserver.Outgoing{Kind: botserver.OutText, Text: e.Text, TS: e.At, Turn: e.Turn, FromUser: true, Source: source})
	case effRestart:
		a.toClient(botserver.Outgoing{Kind: botserver.OutRestart, TS: e.At, Turn: e.Turn})
	}
}

// restartConversation ends the session's conversation: a fresh state that
// keeps the turn count (which fences writes and orders history), the id
// counter (replies to old queries must not resume new ones) and the group;
// its timers are disarmed. The delivery's turn then starts main, and its
// write clears the history (see record).
func (a *instance) restartConversation(ctx actor.Context, d *deliver) {
	old := a.st
	for _, t := range old.Timers {
		a.rt().timers.Disarm(TimerRef{Bot: a.bot.id, Addr: a.addr, ID: t.ID})
	}
	a.st = dsl.NewState()
	a.st.Turn, a.st.NextID, a.st.Group, a.st.Recent = old.Turn, old.NextID, old.Group, old.Recent
	a.bot.log.Info("conversation restarted", "conv", a.addr)
	a.turnFrom(ctx, d)
}

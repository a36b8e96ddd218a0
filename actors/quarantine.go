package actors

import (
	"botserver"
	"fmt"
	"sort"
	"strings"
	"time"

	"botserver/dsl"
	"botserver/persistence"
	pb "botserver/proto"

	"google.golang.org/protobuf/proto"
)

// Quarantine is an instance (a conversation, a master or a group) stopped
// after failing more often than Options.Restart allows. Its state stays as
// last committed; its inputs are refused (Deliver returns botserver.ErrQuarantined,
// messages from other instances are dropped) until an operator releases it
// with Runtime.Release. Everyone else, and the bot, go on. The record is
// kept in the store (persistence.QuarantineKey), so a quarantine outlasts a
// restart of the process: an instance that fails at every start would
// otherwise fail again after every restart.
type Quarantine struct {
	Addr     string
	Kind     string // "session", "master" or "group"
	Error    string // the last failure
	Since    time.Time
	Failures int // failures within Options.Restart.Within when it was quarantined
}

// quarantined reports whether the instance at addr is quarantined.
func (b *botRT) quarantined(addr string) bool {
	if b.nQuarantined.Load() == 0 {
		return false
	}
	_, ok := b.quarantine.Load(addr)
	return ok
}

// quarantine stops routing to the instance at addr (its supervisor then
// restarts it into a stopped incarnation: see instance.start), records why
// in the store and tells its user. It runs on the directory of addr.
func (d *directory) quarantine(addr string, failures int, reason any) {
	b := d.bot
	q := &Quarantine{Addr: addr, Kind: d.kind.String(), Error: fmt.Sprint(reason), Since: b.rt.clock.Now(), Failures: failures}
	if _, had := b.quarantine.LoadOrStore(addr, q); had {
		return
	}
	b.nQuarantined.Add(1)
	s := b.residents[d.kind].shard(addr)
	s.mu.Lock()
	var dropped []any
	if e := s.m[addr]; e != nil {
		e.dead = true
		dropped = e.buffered()
		e.buffer = nil
	}
	s.mu.Unlock()
	for _, m := range dropped {
		b.refuseJoin(addr, m)
	}
	b.dropAll(dropped...)
	b.rt.metrics.quarantined(b.id)
	b.log.Error("instance quarantined after repeated failures (the admin API's release restarts it)", "conv", addr, "failures", failures, "err", q.Error)
	b.rt.activity.Add(1)
	b.store.Write([]persistence.Op{{Key: persistence.QuarantineKey(addr), Value: q.encode()}}, func(err error) {
		if err != nil {
			b.log.Error("cannot record the quarantine; it lasts until the process ends", "conv", addr, "err", err)
		}
		b.rt.activity.Add(-1)
	})
	b.notify(addr, botserver.CodeQuarantined, "this conversation was stopped after repeated failures; it answers again once an operator releases it")
}

// refuseJoin tells the conversation that sent msg, an event (a join, or
// an emit such as a line for the room) to the quarantined group at addr,
// that it was dropped: it did not join, or its message did not arrive.
// Other messages to a quarantined instance are dropped without a word (a
// query's asker times out; a timer waits for the release).
func (b *botRT) refuseJoin(addr string, msg any) {
	d, ok := msg.(*deliver)
	if !ok || kindOf(addr) != kindGroup || d.in.Kind != dsl.InEvent || d.in.Event.Sender == "" || kindOf(d.in.Event.Sender) != kindSession {
		return
	}
	b.rt.metrics.refused(b.id, RefusedQuarantined)
	what := "your message did not reach it"
	if d.in.Event.Name == joinEvent {
		what = "you did not join it"
	}
	b.notify(d.in.Event.Sender, botserver.CodeGroupUnavailable,
		fmt.Sprintf("the group %s was stopped after repeated failures; %s", addr, what))
}

// release is Runtime.Release's message to the directory of addr.
type release struct{ addr string }

// release ends the quarantine of addr: its entry goes (or goes when its
// stopped incarnation has terminated), so the next message starts it.
func (d *directory) release(addr string) {
	b := d.bot
	if _, ok := b.quarantine.LoadAndDelete(addr); !ok {
		return
	}
	b.nQuarantined.Add(-1)
	s := b.residents[d.kind].shard(addr)
	s.mu.Lock()
	if e := s.m[addr]; e != nil && e.dead && e.pid == nil {
		delete(s.m, addr)
	}
	s.mu.Unlock()
}

// loadQuarantine reads the bot's quarantine records before it serves: a
// quarantined address gets a dead routing entry, so nothing starts it.
func (b *botRT) loadQuarantine() error {
	return b.store.Scan(persistence.PrefixQuarantine, func(key string, value []byte) error {
		addr := strings.TrimPrefix(key, persistence.PrefixQuarantine)
		q, err := decodeQuarantine(addr, value)
		if err != nil {
			b.log.Warn("unreadable quarantine record; the instance stays quarantined", "conv", addr, "err", err)
			q = &Quarantine{Addr: addr, Kind: kindOf(addr).String(), Error: "unreadable quarantine record: " + err.Error()}
		}
		b.quarantine.Store(addr, q)
		b.nQuarantined.Add(1)
		s := b.residents[kindOf(addr)].shard(addr)
		s.m[addr] = &resident{dead: true} // the bot does not serve yet: no lock needed, but cheap
		return nil
	})
}

// notify tells the user of a conversation that an input was refused or
// not handled (nothing for masters and groups).
func (b *botRT) notify(addr, code, text string) {
	if kindOf(addr) != kindSession {
		return
	}
	conv, ok := botserver.ParseAddress(b.id, addr)
	if !ok {
		return
	}
	if p := b.rt.platform(conv.Platform); p != nil {
		p.Send(conv, botserver.Outgoing{Kind: botserver.OutError, Code: code, Text: text})
	}
}

// Quarantined lists the quarantined instances of bot, oldest first.
func (r *Runtime) Quarantined(bot string) ([]Quarantine, error) {
	b := r.bot(bot)
	if b == nil {
		return nil, fmt.Errorf("%w: %s", botserver.ErrUnknownBot, bot)
	}
	out := []Quarantine{}
	b.quarantine.Range(func(_, v any) bool {
		out = append(out, *v.(*Quarantine))
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Addr < out[j].Addr
	})
	return out, nil
}

// Release ends the quarantine of the instance at addr of bot: its record
// is deleted and it starts again from its committed state (arming its
// timers). It returns botserver.ErrUnknownBot or ErrNotQuarantined.
func (r *Runtime) Release(bot, addr string) error {
	b := r.bot(bot)
	switch {
	case b == nil:
		return fmt.Errorf("%w: %s", botserver.ErrUnknownBot, bot)
	case !b.quarantined(addr):
		return fmt.Errorf("%w: %s", ErrNotQuarantined, addr)
	}
	if err := b.store.WriteSync(persistence.Op{Key: persistence.QuarantineKey(addr), Delete: true}); err != nil {
		return fmt.Errorf("cannot delete the quarantine record of %s: %w", addr, err)
	}
	if _, err := r.system.Root.RequestFuture(b.dirs[kindOf(addr)], &release{addr: addr}, 5*time.Second).Result(); err != nil {
		return fmt.Errorf("cannot release %s: %w", addr, err)
	}
	b.log.Info("instance released from quarantine", "conv", addr)
	b.route(addr, &timerFired{id: wakeID}) // starts it; it arms its own timers
	return nil
}

// encode is the stored form of a quarantine record.
func (q *Quarantine) encode() []byte {
	str := func(s string) *pb.Value { return &pb.Value{Kind: &pb.Value_Str{Str: s}} }
	num := func(n int64) *pb.Value { return &pb.Value{Kind: &pb.Value_Int{Int: n}} }
	raw, err := proto.Marshal(&pb.Map{Fields: map[string]*pb.Value{
		"kind": str(q.Kind), "error": str(q.Error), "since": num(q.Since.UnixMilli()), "failures": num(int64(q.Failures)),
	}})
	if err != nil { // a map of strings and numbers always encodes
		panic(err)
	}
	return raw
}

func decodeQuarantine(addr string, raw []byte) (*Quarantine, error) {
	var m pb.Map
	if err := proto.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	f := m.GetFields()
	return &Quarantine{Addr: addr, Kind: f["kind"].GetStr(), Error: f["error"].GetStr(),
		Since: time.UnixMilli(f["since"].GetInt()), Failures: int(f["failures"].GetInt())}, nil
}

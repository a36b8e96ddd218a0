package actors

import (
	"hash/maphash"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// residents is a bot's routing table: for every address with an instance
// (running, starting or stopping) how to reach it. Senders use it
// directly, so a message to a running instance goes straight into its
// mailbox, without a hop through its directory; the directory only starts
// and stops instances, and updates the table when it does.
//
// The table is what keeps messages in order and never lets one be lost
// behind a passivating instance's stop:
//
//   - a message is sent to an instance's mailbox under the entry's shard
//     lock, and only while the entry is open (it has a pid and is not
//     stopping);
//   - otherwise it is buffered in the entry: while the instance is being
//     started (a new entry asks the directory to start it), and while it
//     is stopping (the directory marks the entry stopping under the lock
//     before it tells the instance to stop, so every direct send is ahead
//     of that);
//   - the directory sends the buffered messages, in order, to the new
//     instance before it opens the entry, so a message sent directly never
//     overtakes one buffered before it.
type residents struct {
	seed   maphash.Seed
	shards [32]residentShard
}

// residentShard is 64 bytes, a cache line: the hot words of two shards
// (their locks and maps) are 64 bytes apart, so never on one line.
type residentShard struct {
	mu sync.Mutex
	m  map[string]*resident
	_  [64 - 16]byte // mu (8 bytes) and m (8)
}

// resident is the routing entry of one address (24 bytes: one for every
// resident conversation).
type resident struct {
	pid      *actor.PID // nil while starting
	buffer   *[]any     // messages waiting for the instance to start, if any
	stopping bool       // passivating: told to stop, or about to be
	dead     bool       // stopped by the restart policy: messages are dropped
	idle     uint8      // sweeps since the last message (see sweep)
}

// buffered returns the waiting messages.
func (e *resident) buffered() []any {
	if e.buffer == nil {
		return nil
	}
	return *e.buffer
}

// push adds msg to the waiting messages (or ahead of them: first).
func (e *resident) push(msg any, first bool) {
	if e.buffer == nil {
		e.buffer = &[]any{msg}
		return
	}
	if first {
		*e.buffer = append([]any{msg}, *e.buffer...)
		return
	}
	*e.buffer = append(*e.buffer, msg)
}

// setBuffered replaces the waiting messages.
func (e *resident) setBuffered(msgs []any) {
	if len(msgs) == 0 {
		e.buffer = nil
		return
	}
	*e.buffer = msgs
}

// activate asks a directory to start the instance of addr, whose entry
// holds its first messages.
type activate struct{ addr string }

func (r *residents) init() {
	r.seed = maphash.MakeSeed()
	for i := range r.shards {
		r.shards[i].m = map[string]*resident{}
	}
}

func (r *residents) shard(addr string) *residentShard {
	return &r.shards[maphash.String(r.seed, addr)%uint64(len(r.shards))]
}

// route sends msg to the instance of addr, or buffers it and has the
// instance started, or forwards it to the member that hosts addr; msg
// counts as activity until it is handled (or forwarded).
func (b *botRT) route(addr string, msg any) {
	b.rt.activity.Add(1)
	if r := b.rt.opts.Router; r != nil && !b.failed.Load() && (tracked(msg) || !r.Local(b.id, addr)) {
		b.forward(addr, msg)
		return
	}
	b.deliverHere(addr, msg)
}

// routeHere is route to an instance on this member, whoever hosts it
// (an input another member forwarded here).
func (b *botRT) routeHere(addr string, msg any) {
	b.rt.activity.Add(1)
	b.deliverHere(addr, msg)
}

// deliverHere is route for an instance of this member.
func (b *botRT) deliverHere(addr string, msg any) {
	if b.failed.Load() {
		b.dropAll(msg) // the bot has failed
		return
	}
	s := b.residents[kindOf(addr)].shard(addr)
	s.mu.Lock()
	e := s.m[addr]
	switch {
	case e == nil:
		e = &resident{}
		e.push(msg, false)
		s.m[addr] = e
		s.mu.Unlock()
		b.rt.system.Root.Send(b.dirs[kindOf(addr)], &activate{addr: addr})
		return
	case e.dead:
		s.mu.Unlock()
		b.refuseJoin(addr, msg)
		b.dropAll(msg) // this instance is quarantined
		return
	case e.pid == nil || e.stopping:
		e.push(msg, false)
	default:
		e.idle = 0
		b.rt.system.Root.Send(e.pid, msg)
	}
	s.mu.Unlock()
}

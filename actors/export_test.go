package actors

import (
	"botserver/dsl"

	"github.com/asynkron/protoactor-go/actor"
)

// SendEvent routes the event name from sender to the instance at addr of
// bot as a delivery with input id, as a node forwarding an event between
// members does: tests of the duplicate filter on masters and groups.
func SendEvent(r *Runtime, bot, addr, sender, name string, id uint64) {
	ev := &dsl.Event{Name: name, Sender: sender}
	r.bot(bot).route(addr, &deliver{in: dsl.Input{Kind: dsl.InEvent, Event: ev}, id: id})
}

// StopNow stops the running instance at addr of bot as a crash of its
// parent would: actor.Stop goes in ahead of its mail, which is dropped.
// It reports whether an instance was running.
func StopNow(r *Runtime, bot, addr string) bool {
	b := r.bot(bot)
	s := b.residents[kindOf(addr)].shard(addr)
	s.mu.Lock()
	var pid *actor.PID
	if e := s.m[addr]; e != nil {
		pid = e.pid
	}
	s.mu.Unlock()
	if pid == nil {
		return false
	}
	r.system.Root.Stop(pid)
	return true
}

// Activity returns the runtime's count of messages and writes in flight
// (Settle waits for 0).
func Activity(r *Runtime) int64 { return r.activity.Load() }

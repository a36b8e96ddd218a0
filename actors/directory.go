package actors

import (
	"errors"
	"fmt"

	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// directory supervises the instances of one kind of one bot (sessions,
// groups, or the master): it starts an instance when the bot's routing
// table (residents) asks for it, and stops idle ones. Messages do not pass
// through it: senders put them in an instance's mailbox through the table.
//
// Passivation: the directory finds idle instances (see sweep) and sends
// them idleCheck; an idle instance sends passivate; the directory marks its
// entry stopping, so that new messages are buffered in the table, and
// tells it to stop (stopNow: it handles everything already in its mailbox
// first, and stops once its last turn's effects are released). When it has
// terminated, a fresh instance is started for the buffered messages. Two
// instances of one address never run at once.
type directory struct {
	bot     *botRT
	kind    addrKind
	props   *actor.Props      // one for all instances: each takes its address from its name
	byPID   map[string]string // running instances' addresses
	sweeper sweeper           // the next sweep for idle instances
}

func newDirectory(bot *botRT, kind addrKind) actor.Actor {
	props := actor.PropsFromProducer(func() actor.Actor { return &instance{bot: bot} }, actor.WithDispatcher(bot.rt.dispatcherFor(kind)))
	return &directory{bot: bot, kind: kind, props: props, byPID: map[string]string{}}
}

// Receive handles activations, passivation and children's ends.
func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *activate:
		d.activate(ctx, msg.addr)
	case *sweep:
		d.sweep(ctx)
	case *actor.Started:
		d.armSweep(ctx)
	case *actor.Stopping:
		d.sweeper.Stop()
	case *actor.Restarting: // its instances are stopped: new messages start new ones
		d.sweeper.Stop()
		d.forget()
	case *spawnGroup:
		d.spawnGroup(ctx, msg)
		d.bot.rt.activity.Add(-1)
	case *passivate:
		d.passivate(ctx, ctx.Sender())
	case *handover:
		d.handover(ctx)
	case *release:
		d.release(msg.addr)
		ctx.Respond(true)
	case *actor.Terminated:
		d.terminated(ctx, msg.Who)
	}
}

// forget drops the entries of this directory's kind, and the messages
// waiting in them.
func (d *directory) forget() {
	t := &d.bot.residents[d.kind]
	var dropped []any
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for addr, e := range s.m {
			dropped = append(dropped, e.buffered()...)
			if d.bot.quarantined(addr) {
				s.m[addr] = &resident{dead: true}
				continue
			}
			delete(s.m, addr)
		}
		s.mu.Unlock()
	}
	d.bot.dropAll(dropped...)
}

// passivate closes the entry of an idle instance, so that new messages
// wait in it, and tells the instance to stop: stopNow comes behind every
// message sent to it while the entry was open.
func (d *directory) passivate(ctx actor.Context, who *actor.PID) {
	addr, ok := d.byPID[who.Id]
	if !ok {
		return
	}
	s := d.bot.residents[d.kind].shard(addr)
	s.mu.Lock()
	e := s.m[addr]
	ours := e != nil && e.pid != nil && e.pid.Id == who.Id && !e.stopping
	if ours {
		e.stopping = true
	}
	s.mu.Unlock()
	if ours {
		ctx.Send(who, &stopNow{})
	}
}

// activate starts the instance of addr for the messages buffered in its
// entry. A group that does not exist is started only by the message that
// creates it; messages before that are dropped.
func (d *directory) activate(ctx actor.Context, addr string) {
	s := d.bot.residents[d.kind].shard(addr)
	for {
		s.mu.Lock()
		e := s.m[addr]
		if e == nil || e.pid != nil || e.dead {
			s.mu.Unlock()
			return
		}
		if d.bot.failed.Load() || len(e.buffered()) == 0 {
			dropped := e.buffered()
			delete(s.m, addr)
			s.mu.Unlock()
			d.bot.dropAll(dropped...)
			return
		}
		if !d.bot.local(addr) && !pinned(e.buffered()[0]) { // another member hosts it now
			away := e.buffered()
			delete(s.m, addr)
			s.mu.Unlock()
			d.bot.forwardAway(addr, away)
			return
		}
		first := e.buffered()[0]
		s.mu.Unlock()
		if d.kind != kindGroup || d.groupExists(addr, first) { // reads the store: not under the lock
			break
		}
		d.bot.log.Warn("message for a group that does not exist", "group", addr)
		d.bot.dropAll(first)
		s.mu.Lock()
		e.setBuffered(e.buffered()[1:]) // only this directory removes entries: e is still addr's
		s.mu.Unlock()
	}
	d.spawn(ctx, addr)
}

// spawn starts the instance of addr, named by its address, sends it the
// messages buffered for it and opens its entry (an address is never
// spawned twice at once: see terminated).
func (d *directory) spawn(ctx actor.Context, addr string) {
	pid, err := ctx.SpawnNamed(d.props, addr)
	if err != nil {
		panic(fmt.Errorf("cannot start %s: %w", addr, err))
	}
	d.byPID[pid.Id] = addr
	s := d.bot.residents[d.kind].shard(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[addr]
	if e == nil { // cannot happen: entries of unstarted instances stay
		e = &resident{}
		s.m[addr] = e
	}
	for _, m := range e.buffered() {
		ctx.Send(pid, m)
	}
	e.pid, e.stopping, e.buffer = pid, false, nil
}

// terminated respawns a passivated child that got messages meanwhile.
func (d *directory) terminated(ctx actor.Context, who *actor.PID) {
	addr, ok := d.byPID[who.Id]
	if !ok {
		return
	}
	delete(d.byPID, who.Id)
	s := d.bot.residents[d.kind].shard(addr)
	s.mu.Lock()
	e := s.m[addr]
	if e == nil || e.pid == nil || e.pid.Id != who.Id {
		s.mu.Unlock()
		return
	}
	if e.dead { // quarantined: the entry stays until it is released
		e.pid = nil
		released := !d.bot.quarantined(addr)
		if released {
			delete(s.m, addr)
		}
		s.mu.Unlock()
		if released { // released before it had stopped: start it as Release does
			d.bot.route(addr, &timerFired{id: wakeID})
		}
		return
	}
	if len(e.buffered()) == 0 || !d.bot.local(addr) {
		away := e.buffered()
		delete(s.m, addr)
		s.mu.Unlock()
		d.bot.forwardAway(addr, away) // handed over: they follow it
		return
	}
	e.pid, e.stopping = nil, false // starting again: messages keep buffering
	s.mu.Unlock()
	d.spawn(ctx, addr)
}

// groupExists reports whether a message may start group addr: it exists,
// or msg creates it.
func (d *directory) groupExists(addr string, msg any) bool {
	if dl, ok := msg.(*deliver); ok && dl.create != nil {
		return true
	}
	return d.bot.groups.Exists(addr)
}

// spawnGroup creates group g unless it exists (the effect that asked for
// it has already marked it known). Its creating message goes ahead of any
// message routed to it since.
func (d *directory) spawnGroup(ctx actor.Context, g *spawnGroup) {
	s := d.bot.residents[d.kind].shard(g.id)
	s.mu.Lock()
	e := s.m[g.id]
	started := e != nil && (e.pid != nil || e.dead) // only this directory starts it
	s.mu.Unlock()
	if started {
		ackNow(g.ack)
		return
	}
	if d.bot.groups.Stored(g.id) {
		d.bot.groups.Add(g.id)
		ackNow(g.ack)
		return
	}
	d.bot.groups.Add(g.id)
	vars := g.vars
	if vars == nil {
		vars = map[string]any{}
	}
	create := &deliver{create: vars, ack: g.ack} // acknowledged with the group's first write
	d.bot.rt.activity.Add(1)
	s.mu.Lock()
	if e = s.m[g.id]; e != nil { // waiting for its activation, which is queued
		e.push(create, true)
		s.mu.Unlock()
		return
	}
	e = &resident{}
	e.push(create, false)
	s.m[g.id] = e
	s.mu.Unlock()
	d.activate(ctx, g.id)
}

// ackNow calls ack, if any.
func ackNow(ack func()) {
	if ack != nil {
		ack()
	}
}

// HandleFailure applies the restart policy to a failing instance: it is
// restarted from its committed state (the failing message is dropped),
// and one that failed more than Options.Restart allows is quarantined on
// its own, its restarted incarnation stopping at once. The bot and its
// other instances are not affected.
func (d *directory) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, msg any) {
	addr := d.byPID[child.Id]
	d.bot.log.Error("actor failed", "conv", addr, "reason", reason)
	d.bot.rt.metrics.restart(d.bot.id)
	policy := d.bot.rt.opts.Restart
	if !d.bot.rt.passing(reason) && !refused(reason) { // a store outage or a refused write is not the instance's failure
		rs.Fail()
		if n := rs.NumberOfFailures(policy.Within); n > policy.Max && addr != "" {
			d.quarantine(addr, n, reason)
		}
	}
	switch msg.(type) {
	case *deliver, *timerFired, *committed, *crash, *play, *playCancel:
		d.bot.dropAll(msg) // the failing message (after the quarantine: Settle waits for it)
	}
	sup.RestartChildren(child)
}

// refused reports whether a failure is a write the store refused to a stale
// activation or a changed shared record, an unknown commit outcome, or a
// store that cannot be reached: the instance reloads, it did nothing wrong.
func refused(reason any) bool {
	err, ok := reason.(error)
	return ok && (rerun(err) || errors.Is(err, persistence.ErrUnavailable))
}

package actors

import (
	"fmt"
	"time"

	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// RestartPolicy is how often an actor may fail before its supervisor gives
// up on it: more than Max failures within Within stops it.
type RestartPolicy struct {
	Max    int
	Within time.Duration
}

// DefaultRestartPolicy is protoactor's default intensity, written out.
var DefaultRestartPolicy = RestartPolicy{Max: 10, Within: 10 * time.Second}

// directory supervises the instances of one kind of one bot (sessions,
// groups, or the master) and routes messages to them by address, spawning
// an instance on its first message.
//
// Passivation: an idle instance sends passivate; the directory stops
// routing to it, poisons it (so that it still handles everything already in
// its mailbox) and buffers new messages until it has terminated, then
// starts a fresh instance for them. Every message to an instance goes
// through its directory, so nothing can arrive behind the poison pill and
// two instances of one address never run at once.
type directory struct {
	bot      *botRT
	kind     addrKind
	props    *actor.Props // one for all instances: each takes its address from its name
	children map[string]*child
	byPID    map[string]string
	stopped  map[string]bool // addresses stopped for failing too often
}

type child struct {
	pid      *actor.PID
	stopping bool
	buffer   []any
}

func newDirectory(bot *botRT, kind addrKind) actor.Actor {
	props := actor.PropsFromProducer(func() actor.Actor { return &instance{bot: bot} }, actor.WithDispatcher(bot.rt.dispatch))
	return &directory{bot: bot, kind: kind, props: props, children: map[string]*child{}, byPID: map[string]string{}, stopped: map[string]bool{}}
}

// Receive handles routing, passivation and children's ends.
func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *envelope:
		d.route(ctx, msg.addr, msg.msg)
	case *spawnGroup:
		d.spawnGroup(ctx, msg)
		d.bot.rt.activity.Add(-1)
	case *passivate:
		if addr, ok := d.byPID[ctx.Sender().Id]; ok {
			c := d.children[addr]
			c.stopping = true
			ctx.Poison(c.pid)
		}
	case *actor.Terminated:
		d.terminated(ctx, msg.Who)
	}
}

func (d *directory) route(ctx actor.Context, addr string, msg any) {
	if d.bot.failed.Load() || d.stopped[addr] {
		d.bot.rt.activity.Add(-1) // dropped: the bot or this instance has failed
		return
	}
	c := d.children[addr]
	if c == nil && d.kind == kindGroup && !d.groupExists(addr, msg) {
		d.bot.log.Warn("message for a group that does not exist", "group", addr)
		d.bot.rt.activity.Add(-1)
		return
	}
	if c == nil {
		c = d.spawn(ctx, addr)
	}
	if c.stopping {
		c.buffer = append(c.buffer, msg)
		return
	}
	ctx.Send(c.pid, msg)
}

// spawn starts the instance of addr, named by its address (an address is
// never spawned twice at once: see terminated).
func (d *directory) spawn(ctx actor.Context, addr string) *child {
	pid, err := ctx.SpawnNamed(d.props, addr)
	if err != nil {
		panic(fmt.Errorf("cannot start %s: %w", addr, err))
	}
	c := &child{pid: pid}
	d.children[addr] = c
	d.byPID[pid.Id] = addr
	return c
}

// terminated respawns a passivated child that got messages meanwhile.
func (d *directory) terminated(ctx actor.Context, who *actor.PID) {
	addr, ok := d.byPID[who.Id]
	if !ok {
		return
	}
	delete(d.byPID, who.Id)
	c := d.children[addr]
	delete(d.children, addr)
	if !c.stopping { // stopped by the restart policy
		d.stopped[addr] = true
		if d.kind == kindMaster {
			d.bot.masterStopped.Store(true)
		}
		for range c.buffer {
			d.bot.rt.activity.Add(-1)
		}
		return
	}
	if len(c.buffer) > 0 {
		n := d.spawn(ctx, addr)
		for _, m := range c.buffer {
			ctx.Send(n.pid, m)
		}
	}
}

// groupExists reports whether a message may start group addr: it exists,
// or msg creates it.
func (d *directory) groupExists(addr string, msg any) bool {
	if dl, ok := msg.(*deliver); ok && dl.create != nil {
		return true
	}
	if _, known := d.bot.groups.Load(addr); known {
		return true
	}
	_, err := d.bot.store.Get(persistence.StateKey(addr))
	return err == nil
}

// spawnGroup creates group g unless it exists.
func (d *directory) spawnGroup(ctx actor.Context, g *spawnGroup) {
	if _, known := d.bot.groups.Load(g.id); known || d.children[g.id] != nil {
		return
	}
	if _, err := d.bot.store.Get(persistence.StateKey(g.id)); err == nil {
		d.bot.groups.Store(g.id, true)
		return
	}
	d.bot.groups.Store(g.id, true)
	vars := g.vars
	if vars == nil {
		vars = map[string]any{}
	}
	d.bot.rt.activity.Add(1)
	d.route(ctx, g.id, &deliver{create: vars})
}

// HandleFailure applies the restart policy to a failing instance and counts
// the failure against the bot; a bot over its intensity is marked failed.
func (d *directory) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason any, msg any) {
	addr := d.byPID[child.Id]
	d.bot.log.Error("actor failed", "conv", addr, "reason", reason)
	d.bot.rt.metrics.restart(d.bot.id)
	switch msg.(type) {
	case *deliver, *timerFired, *committed, *crash:
		d.bot.rt.activity.Add(-1) // the failing message is dropped
	}
	policy := d.bot.rt.opts.Restart
	rs.Fail()
	if d.bot.recordFailure() || rs.NumberOfFailures(policy.Within) > policy.Max {
		sup.StopChildren(child)
		return
	}
	sup.RestartChildren(child)
}

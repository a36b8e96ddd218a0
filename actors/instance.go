package actors

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"botserver"
	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// instance is the scripted actor: a conversation, a master or a group
// running its bot's program over state that is persisted after every turn.
//
// Life cycle: Started loads the state (a restarted incarnation first waits
// for the writes its predecessor queued, so it never reads an older state);
// then inputs are handled, one turn each. A turn's state goes to the store
// through group commit; its messages to other instances are released when
// that write is sequenced in the store's log, its messages to users when it
// is durable (outbox.go). A panic restarts the instance from the committed
// state; the failing message is dropped.
type instance struct {
	bot     *botRT
	addr    string
	kind    addrKind
	restart bool // an earlier incarnation of this address ran in this actor
	// passivating: idle, and writing its wake-up time before it stops
	passivating bool
	asked       bool       // passivation asked of the directory
	stopping    bool       // told to stop: it does once its outbox is flushed
	warned      uint8      // limits already logged (see warnOnce)
	recv        *received  // during a group's turn: what its coordinator's Receive changed
	grp         *memberLog // groups: their members' keys
	histSlot    uint8
	conv        botserver.Conversation
	st          *dsl.State
	role        Role         // masters and groups: their coordinator, bound to st
	prog        *dsl.Program // what the state is bound to
	user        *userRecord  // sessions: the user's record, while resident
	wake        int64        // the wake-up time in the store (Unix ns; 0: none)
	seq         uint64       // writes queued by this incarnation
	outbox      []turnOut    // effects waiting for writes (outbox.go)
	durableTo   uint64       // its writes up to this count are durable
	epoch       uint64       // the epoch its Load claimed: fences its writes
	// loadedVersion is the version of the state Load found (replay.go)
	loadedVersion uint64
	cur           any   // the input being handled (kept for a replay)
	loadErr       error // the state could not be loaded: inputs fail with it
	notices       int   // committed messages still to come
	// lateAcks acknowledge forwarded inputs no turn held (dropped,
	// refused, deferred) once the outbox is empty (router.go)
	lateAcks []func()
	ownIDs   uint8 // how many of the newest ids in st.Recent this incarnation handled
}

func (a *instance) rt() *Runtime { return a.bot.rt }

// Receive handles the actor's messages.
func (a *instance) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.start(ctx)
	case *deliver, *timerFired, *play, *playCancel:
		a.passivating = false
		a.cur = msg
		a.handle(ctx, msg)
		a.cur = nil
		doneWith(msg)
		a.ackLoose(msg)
		a.rt().activity.Add(-1)
	case *committed:
		if msg.inst == a {
			a.settled(msg)
			a.attachWaiting()
			switch {
			case a.stopping:
				if a.flush(ctx) {
					ctx.Stop(ctx.Self())
				}
			case a.passivating:
				if a.flush(ctx) {
					a.passivate(ctx)
				}
			}
		}
		a.rt().activity.Add(-1)
	case *writeJoins:
		if msg.inst == a {
			a.grp.queued = nil
			a.writeJoins(ctx)
		}
		msg.settle(a.rt())
	case *attachReq:
		a.attach(msg)
		a.rt().activity.Add(-1)
	case *crash:
		panic("crash requested")
	case *loadFailed:
		if a.loadErr != nil { // a retry armed by an incarnation before one that loaded finds nothing to do
			panic(a.loadErr)
		}
	case *idleCheck:
		a.idleCheck(ctx)
	case *stopNow:
		a.stopping = true
		if a.flush(ctx) {
			ctx.Stop(ctx.Self())
		}
	case *actor.Restarting:
		a.bot.restarting.Store(a.addr, true) // the next incarnation must wait for our writes
		a.savePendingJoins()
		a.unqueueJoins()
		if a.stopping {
			ctx.Send(ctx.Self(), &stopNow{}) // for the next incarnation
		}
		a.stop()
	case *actor.Stopping:
		a.attachFail()
		a.savePendingJoins()
		a.unqueueJoins()
		a.stop()
	}
}

// passivate asks the directory to stop this idle instance, after the
// wake-up index has the instance's real earliest timer (turns do not
// rewrite it when deadlines move later; this keeps a restart from waking
// every conversation that was recently active).
func (a *instance) passivate(ctx actor.Context) {
	if ops := a.fixWake(); len(ops) > 0 {
		a.passivating = true
		a.commit(ctx, ops, nil, false)
		return
	}
	a.passivating = false
	a.asked = true
	ctx.Request(ctx.Parent(), &passivate{}) // Request: the directory needs the sender
}

func (a *instance) start(ctx actor.Context) {
	a.addr = strings.TrimPrefix(ctx.Self().Id, ctx.Parent().Id+"/")
	a.kind = kindOf(a.addr)
	_, a.restart = a.bot.restarting.LoadAndDelete(a.addr)
	a.bot.active[a.kind].Add(1)
	if a.restart {
		// The writer never waits on actors, so this cannot deadlock.
		if err := a.bot.store.WriteSync(); err != nil {
			a.bot.log.Error("write barrier failed", "conv", a.addr, "err", err)
		}
	}
	if a.bot.quarantined(a.addr) { // restarted into quarantine: what is in the mailbox is dropped
		a.stopping = true
		a.replay(ctx)
		ctx.Send(ctx.Self(), &stopNow{})
		return
	}
	a.load(ctx)
	a.replay(ctx)
}

func (a *instance) stop() {
	if a.user != nil {
		a.bot.users.release(a.conv.UserID(), a.user)
		a.user = nil
	}
	a.bot.active[a.kind].Add(-1)
}

// load reads the state; a missing one starts fresh.
func (a *instance) load(ctx actor.Context) {
	prog := a.bot.programFor(a.kind)
	if prog == nil {
		a.bot.log.Warn("no script for this address", "conv", a.addr, "want", a.kind.role().String())
	} else if a.st, a.loadErr = a.readState(prog); a.loadErr != nil {
		if a.kind == kindMaster && a.bot.masterRetry.CompareAndSwap(false, true) {
			// no input may come to retry it: retry after a pause, once
			// however many inputs failed it meanwhile
			self, root, b := ctx.Self(), ctx.ActorSystem().Root, a.bot
			a.rt().clock.AfterFunc(unavailableRetry, func() {
				b.masterRetry.Store(false)
				root.Send(self, &loadFailed{})
			})
		}
	} else {
		a.loadMembers(a.st)
		a.prog = prog
		a.openRole()
		a.rearm()
		a.wake = earliest(a.st.Timers) // the store's is at or before it
	}
	if a.kind == kindSession {
		a.conv, _ = botserver.ParseAddress(a.bot.id, a.addr)
		a.user = a.bot.users.acquire(a.conv.UserID(), a.loadUser)
		a.attachWaiting() // requests a failed incarnation left
	}
	if a.prog != nil && a.kind == kindMaster && !a.st.Started {
		a.role.Create(nil)
		a.turn(ctx, dsl.Input{Kind: dsl.InStart})
	}
}

// openRole binds the coordinator of a master or group to its state.
func (a *instance) openRole() {
	if c := a.rt().opts.Coordinators.of(a.kind); c != nil {
		a.role = c.Open(a.st, a.addr)
	}
}

// readState loads the state and claims its epoch; a missing or corrupt
// state starts afresh. Any other error leaves the instance without an
// epoch: it cannot write, so every input fails with the error and restarts
// it (a store outage does not count toward its quarantine).
func (a *instance) readState(prog *dsl.Program) (*dsl.State, error) {
	got, err := a.bot.store.Load(persistence.StateKey(a.addr))
	var ce *persistence.CorruptError
	if err != nil && !errors.As(err, &ce) {
		a.bot.log.Error("cannot load state", "conv", a.addr, "err", err)
		return nil, fmt.Errorf("cannot load the state of %s: %w", a.addr, err)
	}
	a.epoch, a.loadedVersion = got.Epoch, got.Version
	if err == nil && !got.Found {
		a.bot.log.Info("new "+a.kind.String(), "conv", a.addr)
		return dsl.NewState(), nil
	}
	var st *dsl.State
	if err == nil {
		st, err = dsl.UnmarshalState(got.Value, prog)
	}
	if err != nil {
		a.bot.log.Error("cannot load state; starting afresh", "conv", a.addr, "err", err)
		a.rt().metrics.corrupt()
		return dsl.NewState(), nil
	}
	return st, nil
}

func (a *instance) loadUser() ([]byte, uint64) {
	raw, version, err := a.bot.store.GetVersioned(persistence.UserKey(a.conv.UserID()))
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		a.bot.log.Error("cannot load user record", "user", a.conv.UserID(), "err", err)
	}
	return raw, version
}

// userFields decodes the record into the map a turn's script sees, with
// the fields the platform knows.
func (a *instance) userFields(rec *userRecord) map[string]any {
	fields := map[string]any{}
	if len(rec.raw) > 0 {
		var err error
		if fields, err = dsl.UnmarshalUser(rec.raw); err != nil {
			a.bot.log.Error("corrupt user record", "user", a.conv.UserID(), "err", err)
			a.rt().metrics.corrupt()
			fields = map[string]any{}
		}
	}
	fields["id"] = a.conv.UserID()
	fields["channel"] = a.conv.Platform
	return fields
}

// env is a turn's environment; its maps and functions are the bot's,
// shared by all its instances. The machine copies it, so it stays on the
// stack rather than costing every idle instance its size.
func (a *instance) env() dsl.Env {
	// A turn's time is the runtime's clock; its time budget is wall time,
	// on a fake clock too.
	return dsl.Env{Now: a.rt().clock.Now(), Stopwatch: time.Now, Rand: a.rt().opts.Rand, Self: a.addr, Limits: a.rt().opts.Limits.Script,
		Bot: *a.bot.botVar.Load(), ChatLink: a.bot.chatLink}
}

// rearm puts the state's timers back in the timekeeper (after a restart,
// or a passivation). One already due is sent at once, and counted as
// activity before this message is done, so Settle waits for it.
func (a *instance) rearm() {
	now := a.rt().clock.Now()
	for _, t := range a.st.Timers {
		ref := TimerRef{Bot: a.bot.id, Addr: a.addr, ID: t.ID}
		if !t.At.After(now) {
			a.rt().timers.Disarm(ref)
			a.bot.route(a.addr, &timerFired{id: t.ID})
			continue
		}
		a.rt().timers.Arm(ref, t.Kind, t.At)
	}
}

// handle turns a message into a turn.
func (a *instance) handle(ctx actor.Context, msg any) {
	if a.loadErr != nil {
		a.refuseUnloaded(msg)
		panic(a.loadErr) // the input is dropped; the next incarnation loads again
	}
	if a.prog == nil {
		if a.bot.quarantined(a.addr) { // restarted into quarantine (start)
			a.bot.refuseJoin(a.addr, msg)
		}
		return
	}
	if a.duplicate(msg) {
		a.resendReply(msg)
		return
	}
	if a.deferTurn(msg) {
		return
	}
	if _, ok := msg.(*deliver); !ok {
		a.writeJoins(ctx) // before a turn that might fail
	}
	switch m := msg.(type) {
	case *timerFired:
		if m.id == wakeID {
			a.woken(ctx)
			return
		}
		a.turn(ctx, dsl.Input{Kind: dsl.InTimer, Timer: m.id})
	case *deliver:
		a.deliver(ctx, m)
	case *play:
		a.playTurn(ctx, m)
	case *playCancel:
		a.turn(ctx, dsl.Input{Kind: dsl.InCancel, QueryID: m.id})
	}
}

func (a *instance) deliver(ctx actor.Context, d *deliver) {
	if d.create == nil && a.queueFull(d.in) {
		a.refuseQueued(d.in)
		return
	}
	if a.kind == kindSession {
		a.joinOnce(ctx)
		if d.restart {
			a.restartConversation(ctx, d)
			return
		}
		a.turnFrom(ctx, d)
		return
	}
	if a.kind == kindGroup && !a.st.Started {
		if d.create == nil {
			a.bot.log.Warn("message for a group that does not exist", "group", a.addr)
			return
		}
		a.role.Create(d.create)
		a.turn(ctx, dsl.Input{Kind: dsl.InStart})
	}
	if d.create != nil {
		return
	}
	a.coordinated(ctx, d.in)
}

// coordinated runs an input of a master or group once its coordinator has
// taken it; a join the group has no handler for runs no turn (joins.go).
func (a *instance) coordinated(ctx actor.Context, in dsl.Input) {
	a.refreshProgram()
	quiet := a.quietJoin(in)
	if !quiet {
		a.writeJoins(ctx) // before a turn that might fail
	}
	a.recv = &received{members: a.st.Members, in: in}
	defer func() { a.recv = nil }()
	if err := a.role.Receive(in, &a.rt().opts.Limits); err != nil {
		a.refuseJoin(in, err)
		return
	}
	if quiet {
		a.pendJoin(ctx)
		return
	}
	a.turn(ctx, in)
}

// joinOnce makes a new conversation opened through a group link a member:
// it sends the group "join" (coordinators.JoinEvent) once.
func (a *instance) joinOnce(ctx actor.Context) {
	if a.conv.Group == "" || a.st.Group != "" {
		return
	}
	a.st.Group = a.conv.Group
	join := dsl.Effect{Kind: dsl.EffEmit, Name: joinEvent, Target: a.conv.Group}
	a.commit(ctx, a.stateOps(nil, a.wakeOps(), nil), []dsl.Effect{join}, false)
}

// turn runs one input and commits its state.
func (a *instance) turn(ctx actor.Context, in dsl.Input) {
	a.refreshProgram()
	a.turnEnv(ctx, in, a.env(), nil)
}

// turnFrom runs a delivery's input; its name is the user's display name
// on the platform, recorded in user.name when it changes.
func (a *instance) turnFrom(ctx actor.Context, d *deliver) {
	a.refreshProgram()
	a.turnEnv(ctx, d.in, a.env(), d)
}

// turnEnv runs one input in env and returns its run-time error, if any;
// d is the delivery that brought the input, if one did.
func (a *instance) turnEnv(ctx actor.Context, in dsl.Input, env dsl.Env, d *deliver) *dsl.RuntimeError {
	var name string
	if d != nil {
		name = d.name
	}
	rec := a.user
	var userOp *persistence.Op
	if rec != nil {
		rec.mu.Lock() // until the turn's write is queued: CAS order is version order
		defer rec.mu.Unlock()
		env.User = a.userFields(rec)
	}
	m := a.bot.machines.get(a.prog)
	defer a.bot.machines.put(m) // after the effects are copied or dispatched
	var prof profile
	var renamed bool
	if rec != nil {
		prof, renamed = takeProfile(env.User, name)
	}
	if remember(a.st, a.inputID()) { // written with the turn (encodeTurn)
		a.ownIDs = min(a.ownIDs+1, RecentInputs)
	}
	began := time.Now()
	res := m.Turn(a.st, in, &env)
	if a.recv.changed(a.st) {
		res.Changed = true // the membership is part of the turn's write
	}
	if rec != nil && (res.UserChanged || renamed) {
		prof.own = prof.own || res.UserNameSet
		putProfile(env.User, prof)
	}
	k, err := a.keep(m, &res, &env, renamed)
	if rec != nil && k.user != nil {
		userOp = a.userWrite(rec, k.user)
	}
	if err != nil {
		panic(err) // the instance restarts from its committed state
	}
	a.rt().metrics.turn(a.bot.id, a.kind, &res, time.Since(began))
	a.report(&res, k.tooLarge)
	a.armTimers(res.Effects)
	timers := a.wakeOps()
	hist, effects := a.record(in, d, res.Effects, env.Now)
	if k.state == nil && userOp == nil && len(timers) == 0 && len(hist) == 0 {
		a.unwritten(ctx, effects)
		return res.Err
	}
	a.commit(ctx, append(a.stateOps(k.state, timers, userOp), hist...), effects, len(hist) > 0)
	return res.Err
}

// userWrite stores the turn's encoded fields in the record, bumps its
// version and returns its write (under rec.mu).
func (a *instance) userWrite(rec *userRecord, raw []byte) *persistence.Op {
	rec.raw = raw
	rec.version++
	return &persistence.Op{Key: persistence.UserKey(a.conv.UserID()), Value: raw, Version: rec.version, CAS: true, Expect: rec.version - 1}
}

// refreshProgram moves a running instance to a reloaded program, keeping its
// variables; frames of dialogs the new program lacks are dropped.
func (a *instance) refreshProgram() {
	prog := a.bot.programFor(a.kind)
	if prog == nil || prog == a.prog {
		return
	}
	raw, err := dsl.Marshal(a.st)
	if err == nil {
		var st *dsl.State
		if st, err = dsl.UnmarshalState(raw, prog); err == nil {
			a.st = st
			a.openRole()
		}
	}
	if err != nil {
		a.bot.log.Error("cannot move to the reloaded script", "conv", a.addr, "err", err)
		return
	}
	a.prog = prog
}

// stateOps builds the writes of a turn: the state (encoded now when raw is
// nil), a group's new member keys, the timer index changes and the user
// record.
func (a *instance) stateOps(raw []byte, timers []persistence.Op, user *persistence.Op) []persistence.Op {
	if raw == nil {
		var err error
		if raw, err = a.encodeState(); err != nil {
			panic(fmt.Errorf("cannot encode the state of %s: %w", a.addr, err))
		}
	}
	ops := []persistence.Op{{Key: persistence.StateKey(a.addr), Value: raw, Version: a.st.Turn + 1}}
	ops = a.memberOps(ops)
	ops = append(ops, timers...)
	if user != nil {
		ops = append(ops, *user)
	}
	return ops
}

package actors

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"botserver"
	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// Options configure a Runtime. Zero fields take defaults.
type Options struct {
	Store     persistence.Backend // required: the badger DB or a postgres.Store
	Clock     Clock               // default RealClock
	Logger    *slog.Logger        // default: discard
	Limits    Limits
	IdleAfter time.Duration // passivate an instance idle this long (default 2m; <0 never)
	Restart   RestartPolicy // failures of one instance before it is quarantined (default DefaultRestartPolicy)
	Rand      func() uint64 // default crypto/rand
	// ChatLink returns the URL that joins group on platform for bot.
	ChatLink func(bot, platform, group string) (string, error)
	// Coordinators make masters and groups (coordinators.Kinds()); required.
	Coordinators Coordinators
	// Validate checks the configuration before anything starts; an error
	// stops Start (and NewRuntime), which returns it.
	Validate func() error
	// Endpoint, if set, is started after Validate passed, beside the bots
	// (the HTTP listener), and restarted whenever it fails.
	Endpoint Service
	// History is how many recent frames each conversation keeps in the
	// store for clients that resume it (default DefaultHistory, at most
	// MaxHistory; negative: none).
	History int
	// OnTurn, if set, is called after every turn, on the instance's
	// goroutine (keep it fast: it is for a latency histogram).
	OnTurn func(TurnInfo)
	// Unavailable, if set, says why turns cannot be written now (the
	// store is out of space), or nil; see unavailable.go. It is called for
	// every input: keep it to an atomic load.
	Unavailable func() error
	// Router, if set, places instances on the members of a cluster (see
	// Router); nil: every instance runs here.
	Router Router
	// Passing, if set, reports whether a store error passes by itself (out
	// of space): an instance whose write failed with it is restarted from
	// its committed state without counting toward its quarantine.
	Passing func(error) bool
}

// Runtime runs bots: one actor per conversation, master and group, under
// a supervision tree, over one store.
type Runtime struct {
	opts     Options
	system   *actor.ActorSystem
	clock    Clock
	timers   *Timekeeper
	log      *slog.Logger
	activity atomic.Int64 // messages and writes in flight; 0 when settled
	metrics  *Metrics
	factory  atomic.Pointer[actor.PID] // the factory supervisor
	root     *actor.PID                // the bot factory
	dispatch *poolDispatcher
	coord    *poolDispatcher // masters and groups, and their directories
	plays    plays
	// rescan runs the scans of stored wake-ups after view changes, one at
	// a time (rescanWakeups)
	rescan struct {
		mu             sync.Mutex
		running, again bool
	}

	mu        sync.RWMutex
	bots      map[string]*botRT
	platforms map[string]botserver.Platform
	closed    bool
}

// NewRuntime makes a runtime and starts its tree (New, then Start).
func NewRuntime(opts Options) (*Runtime, error) {
	r, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := r.Start(); err != nil {
		return nil, err
	}
	return r, nil
}

// New makes a runtime without starting its supervision tree, so that what
// the tree starts (the Endpoint's handlers) can be built over it first. It
// fails when a required option is missing.
func New(opts Options) (*Runtime, error) {
	if opts.Store == nil {
		return nil, errors.New("actors: Options.Store is required")
	}
	if opts.Coordinators.Master == nil || opts.Coordinators.Group == nil || opts.Coordinators.Groups == nil {
		return nil, errors.New("actors: Options.Coordinators is required (coordinators.Kinds())")
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.IdleAfter == 0 {
		opts.IdleAfter = 2 * time.Minute
	}
	if opts.Restart.Max <= 0 || opts.Restart.Within <= 0 {
		opts.Restart = DefaultRestartPolicy
	}
	var err error
	if opts.Limits, err = opts.Limits.withDefaults(); err != nil {
		return nil, err
	}
	if opts.Rand == nil {
		opts.Rand = cryptoRand
	}
	if err := checkHistory(&opts); err != nil {
		return nil, err
	}
	r := &Runtime{opts: opts, clock: opts.Clock, log: opts.Logger, metrics: &Metrics{onTurn: opts.OnTurn},
		bots: map[string]*botRT{}, platforms: map[string]botserver.Platform{}}
	r.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return opts.Logger.With("lib", "protoactor")
	}))
	r.timers = NewTimekeeper(opts.Clock, r.fire)
	r.dispatch = newPoolDispatcher(4*runtime.GOMAXPROCS(0), 300)
	r.coord = newPoolDispatcher(2*runtime.GOMAXPROCS(0), 300)
	return r, nil
}

// Start starts the supervision tree (see tree.go): the superintendent
// validates the configuration (Options.Validate) and only then starts the
// Endpoint (Options.Endpoint) and the factory supervisor that AddBot adds
// bots to. It returns the superintendent's verdict; after an error the
// runtime is closed.
func (r *Runtime) Start() error {
	ready := make(chan error, 1)
	r.root = r.system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &botFactory{rt: r, ready: ready} }))
	if err := <-ready; err != nil {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.shutdown()
		return err
	}
	return nil
}

// shutdown stops the tree, the actor system, the timers and the workers.
func (r *Runtime) shutdown() {
	r.timers.Close()
	if r.root != nil {
		r.system.Root.StopFuture(r.root).Wait()
	}
	r.system.Shutdown()
	r.dispatch.close()
	r.coord.close()
}

func cryptoRand() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

// Metrics returns the runtime's counters.
func (r *Runtime) Metrics() *Metrics { return r.metrics }

// Timers returns the timekeeper (tests and transcripts fire timers with it).
func (r *Runtime) Timers() *Timekeeper { return r.timers }

// RegisterPlatform makes p carry messages for conversations on platform.
func (r *Runtime) RegisterPlatform(name string, p botserver.Platform) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.platforms[name] = p
}

func (r *Runtime) platform(name string) botserver.Platform {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.platforms[name]
}

// AddBot starts bot id, re-arming its durable timers, and returns once its
// supervisor runs. It returns ErrBotExists for a running id, or ctx's
// error if ctx ends first (the bot may then still start: RemoveBot stops
// it).
func (r *Runtime) AddBot(ctx context.Context, id string, prog *dsl.Bot) error {
	if !botserver.ValidBotID(id) {
		return fmt.Errorf("bot id %q must match %s", id, botserver.BotIDPattern)
	}
	store, err := r.opts.Store.Keys(id)
	if err != nil {
		return err
	}
	b := &botRT{id: id, rt: r, store: store, log: r.log.With("bot", id), groups: r.opts.Coordinators.Groups(store)}
	b.initShared()
	b.setProgram(prog)
	if err := b.loadQuarantine(); err != nil {
		return fmt.Errorf("cannot read the quarantine records of bot %s: %w", id, err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.factory.Load() == nil {
		r.mu.Unlock()
		return errors.New("actors: AddBot before Start")
	}
	if r.bots[id] != nil {
		r.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrBotExists, id)
	}
	r.bots[id] = b
	r.mu.Unlock()
	msg := &addBot{bot: b, sup: make(chan *actor.PID, 1), ready: make(chan struct{})}
	r.system.Root.Send(r.factory.Load(), msg)
	select {
	case pid := <-msg.sup:
		b.setSup(pid)
	case <-ctx.Done():
		r.abandon(b, msg.sup)
		return fmt.Errorf("cannot start bot %s: %w", id, ctx.Err())
	}
	select {
	case <-msg.ready:
		b.started.Store(true)
	case <-ctx.Done():
		r.abandon(b, msg.sup)
		return fmt.Errorf("cannot start bot %s: %w", id, ctx.Err())
	}
	return r.restoreTimers(b)
}

// abandon forgets a bot whose start was given up, and stops its
// supervisor once it is known (sup, or already set), so that the id is
// free again and nothing of it runs.
func (r *Runtime) abandon(b *botRT, sup <-chan *actor.PID) {
	r.mu.Lock()
	if r.bots[b.id] == b {
		delete(r.bots, b.id)
	}
	r.mu.Unlock()
	b.failed.Store(true) // directories drop what is routed to it; the factory stops what it spawns late
	pid := b.supervisor()
	if pid == nil {
		select {
		case pid = <-sup:
		default: // not spawned yet: the factory stops it (factory.Receive)
			return
		}
	}
	r.system.Root.Stop(pid)
}

// RemoveBot stops bot id and all its actors, and returns once they have
// stopped or ctx ends; its data stays in the store.
func (r *Runtime) RemoveBot(ctx context.Context, id string) error {
	r.mu.Lock()
	b := r.bots[id]
	delete(r.bots, id)
	r.mu.Unlock()
	if b == nil {
		return fmt.Errorf("%w: %s", botserver.ErrUnknownBot, id)
	}
	b.failed.Store(true) // directories drop what is still routed to it
	r.timers.DisarmBot(id)
	sup := b.supervisor()
	if sup == nil {
		return fmt.Errorf("bot %s is still starting", id)
	}
	msg := &removeBot{pid: sup, stopped: make(chan struct{})}
	r.system.Root.Send(r.factory.Load(), msg)
	select {
	case <-msg.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bot %s did not stop: %w", id, ctx.Err())
	}
}

// restoreTimers arms the wake-ups of the bot's instances hosted here from
// the store's index; a woken instance arms its own timers.
func (r *Runtime) restoreTimers(b *botRT) error {
	return b.store.Scan(persistence.PrefixTimer, func(key string, value []byte) error {
		addr, kind, at, ok := parseWake(key, value)
		if !ok {
			b.log.Warn("bad wake-up record", "key", key)
			return nil
		}
		if !b.local(addr) { // its host arms it
			return nil
		}
		r.timers.Arm(TimerRef{Bot: b.id, Addr: addr, ID: wakeID}, kind, at)
		return nil
	})
}

// fire routes a due timer to its instance.
func (r *Runtime) fire(t TimerRef) {
	if b := r.bot(t.Bot); b != nil {
		b.route(t.Addr, &timerFired{id: t.ID})
	}
}

// Reload swaps the scripts of a running bot; instances move to them at
// their next turn, keeping their variables.
func (r *Runtime) Reload(id string, prog *dsl.Bot) error {
	b := r.bot(id)
	if b == nil {
		return fmt.Errorf("%w: %s", botserver.ErrUnknownBot, id)
	}
	b.setProgram(prog)
	return nil
}

// bot returns bot id once it has started (its directories run), nil
// before: what is sent to a bot that is starting is refused as sent to
// an unknown one (a member of a cluster parks it until the bot runs).
func (r *Runtime) bot(id string) *botRT {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if b := r.bots[id]; b != nil && b.started.Load() {
		return b
	}
	return nil
}

// reachable returns the bot of conv, or ErrUnknownBot, ErrBotFailed or
// ErrQuarantined (all botserver's) when conv cannot take input now.
func (r *Runtime) reachable(conv botserver.Conversation) (*botRT, error) {
	b := r.bot(conv.Bot)
	switch {
	case b == nil:
		return nil, fmt.Errorf("%w: %s", botserver.ErrUnknownBot, conv.Bot)
	case b.failed.Load():
		return nil, fmt.Errorf("%w: %s", botserver.ErrBotFailed, conv.Bot)
	case b.quarantined(conv.Address()):
		return nil, fmt.Errorf("%w: %s", botserver.ErrQuarantined, conv.Address())
	}
	return b, nil
}

// Deliver hands a user's message or client event to its conversation.
// It returns botserver.ErrUnknownBot, botserver.ErrBotFailed, botserver.ErrQuarantined, botserver.ErrUnavailable,
// or botserver.ErrUnknownGroup when conv.Group names no group.
func (r *Runtime) Deliver(conv botserver.Conversation, in botserver.Inbound) error {
	b, err := r.reachable(conv)
	switch {
	case errors.Is(err, botserver.ErrQuarantined):
		r.metrics.refused(conv.Bot, RefusedQuarantined)
		return err
	case err != nil:
		return err
	case r.unavailable() != nil:
		r.metrics.refused(conv.Bot, RefusedUnavailable)
		return fmt.Errorf("%w: %v", botserver.ErrUnavailable, r.unavailable())
	case conv.Group != "" && !r.GroupExists(conv.Bot, conv.Group):
		return fmt.Errorf("%w: %s", botserver.ErrUnknownGroup, conv.Group)
	}
	d := &deliver{in: dsl.Message(in.Text), name: in.Name, done: in.Done,
		restart: in.Restart, source: in.Source, client: true, id: in.ID}
	switch {
	case in.Start, in.Restart:
		d.in = dsl.Input{Kind: dsl.InStart}
	case in.Event != "":
		payload, err := dsl.Normalize(in.Payload)
		if err != nil {
			return fmt.Errorf("%w: %v", botserver.ErrBadPayload, err)
		}
		ev := &dsl.Event{Name: in.Event, Payload: payload, Sender: conv.Address()}
		d.in = dsl.Input{Kind: dsl.InEvent, Event: ev}
	}
	r.metrics.in(conv.Bot, conv.Platform)
	b.route(conv.Address(), d)
	return nil
}

// HandlesEvent reports whether bot's conversations (main.bot) handle the
// client event name; platforms use it to skip events no script asks for.
func (r *Runtime) HandlesEvent(bot, name string) bool {
	b := r.bot(bot)
	return b != nil && b.program.Load().Session.HandlesEvent(name)
}

// HasBot reports whether bot runs in this runtime (failed or not).
func (r *Runtime) HasBot(bot string) bool { return r.bot(bot) != nil }

// Title returns the title of bot's bot.json ("" if it has none, or the
// bot does not run here).
func (r *Runtime) Title(bot string) string {
	if b := r.bot(bot); b != nil {
		return b.program.Load().Title
	}
	return ""
}

// GroupExists reports whether bot has group id.
func (r *Runtime) GroupExists(bot, id string) bool {
	b := r.bot(bot)
	return b != nil && b.groups.Exists(id)
}

// Settle waits until no message or write is in flight anywhere in the
// runtime and every write is durable, or ctx ends.
func (r *Runtime) Settle(ctx context.Context) error {
	for {
		for r.activity.Load() != 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("runtime did not settle (%d in flight): %w", r.activity.Load(), ctx.Err())
			case <-time.After(50 * time.Microsecond):
			}
		}
		// Writes that release nothing external are not waited for by their
		// instances: a barrier waits until they are durable (its error
		// means a broken log, which has no writes left to wait for).
		_ = persistence.Meta(r.opts.Store).WriteSync()
		if r.activity.Load() == 0 {
			return nil
		}
	}
}

// Close stops every actor once nothing is in flight, or when ctx ends
// (what is still in flight is then dropped, and logged). The store stays
// open (its owner closes it).
func (r *Runtime) Close(ctx context.Context) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	if err := r.Settle(ctx); err != nil {
		r.log.Warn("closing before settled", "err", err)
	}
	r.shutdown()
}

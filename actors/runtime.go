package actors

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// Options configure a Runtime. Zero fields take defaults.
type Options struct {
	Store     *persistence.DB // required
	Clock     Clock           // default RealClock
	Logger    *slog.Logger    // default: discard
	Limits    dsl.Limits
	IdleAfter time.Duration // passivate an instance idle this long (default 2m; <0 never)
	Restart   RestartPolicy // default DefaultRestartPolicy
	Rand      func() uint64 // default crypto/rand
	// ChatLink returns the URL that joins group on platform for bot.
	ChatLink func(bot, platform, group string) (string, error)
	// Coordinators make masters and groups (coordinators.Kinds()); required.
	Coordinators Coordinators
	// Validate checks the configuration before anything starts; an error
	// stops NewRuntime, which reports it.
	Validate func() error
	// Endpoint, if set, is started beside the bots (the HTTP server).
	Endpoint Service
	// OnTurn, if set, is called after every turn, on the instance's
	// goroutine (keep it fast: it is for a latency histogram).
	OnTurn func(TurnInfo)
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
	plays    plays

	mu        sync.RWMutex
	bots      map[string]*botRT
	platforms map[string]Platform
	closed    bool
}

// NewRuntime starts an actor system for bots. It fails when a required
// option is missing.
func NewRuntime(opts Options) (*Runtime, error) {
	if opts.Store == nil {
		return nil, errors.New("actors: Options.Store is required")
	}
	if opts.Coordinators.Master == nil || opts.Coordinators.Group == nil {
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
	if opts.Restart.Max == 0 {
		opts.Restart = DefaultRestartPolicy
	}
	if opts.Rand == nil {
		opts.Rand = cryptoRand
	}
	r := &Runtime{opts: opts, clock: opts.Clock, log: opts.Logger, metrics: &Metrics{onTurn: opts.OnTurn},
		bots: map[string]*botRT{}, platforms: map[string]Platform{}}
	r.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return opts.Logger.With("lib", "protoactor")
	}))
	r.timers = NewTimekeeper(opts.Clock, r.fire)
	r.dispatch = newPoolDispatcher(4*runtime.GOMAXPROCS(0), 300)
	ready := make(chan error, 1)
	r.root = r.system.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &botFactory{rt: r, ready: ready} }))
	if err := <-ready; err != nil {
		r.system.Root.StopFuture(r.root).Wait()
		r.system.Shutdown()
		r.dispatch.close()
		return nil, err
	}
	return r, nil
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
func (r *Runtime) RegisterPlatform(name string, p Platform) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.platforms[name] = p
}

func (r *Runtime) platform(name string) Platform {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.platforms[name]
}

var botID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// AddBot starts bot id, re-arming its durable timers. It returns
// ErrBotExists for a running id.
func (r *Runtime) AddBot(id string, prog *dsl.Bot) error {
	if !botID.MatchString(id) {
		return fmt.Errorf("bot id %q must match %s", id, botID)
	}
	store, err := r.opts.Store.Bot(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.bots[id] != nil {
		r.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrBotExists, id)
	}
	b := &botRT{id: id, rt: r, store: store, log: r.log.With("bot", id)}
	b.initShared()
	b.setProgram(prog)
	r.bots[id] = b
	r.mu.Unlock()
	ready := make(chan struct{})
	pid, err := r.system.Root.RequestFuture(r.factory.Load(), &addBot{bot: b, ready: ready}, 5*time.Second).Result()
	if err != nil {
		return fmt.Errorf("cannot start bot %s: %w", id, err)
	}
	b.sup = pid.(*actor.PID)
	<-ready
	return r.restoreTimers(b)
}

// RemoveBot stops bot id and all its actors; its data stays in the store.
func (r *Runtime) RemoveBot(id string) error {
	r.mu.Lock()
	b := r.bots[id]
	delete(r.bots, id)
	r.mu.Unlock()
	if b == nil {
		return fmt.Errorf("%w: %s", ErrUnknownBot, id)
	}
	b.failed.Store(true) // directories drop what is still routed to it
	r.timers.DisarmBot(id)
	_, err := r.system.Root.RequestFuture(r.factory.Load(), &removeBot{pid: b.sup}, 5*time.Second).Result()
	return err
}

// restoreTimers arms the wake-ups of the bot's instances from the store's
// index; a woken instance arms its own timers.
func (r *Runtime) restoreTimers(b *botRT) error {
	return b.store.Scan(persistence.PrefixTimer, func(key string, value []byte) error {
		addr, kind, at, ok := parseWake(key, value)
		if !ok {
			b.log.Warn("bad wake-up record", "key", key)
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
		return fmt.Errorf("%w: %s", ErrUnknownBot, id)
	}
	b.setProgram(prog)
	return nil
}

func (r *Runtime) bot(id string) *botRT {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.bots[id]
}

// Deliver hands a user's message or client event to its conversation.
// It returns ErrUnknownBot, ErrBotFailed, or ErrUnknownGroup when
// conv.Group names no group.
func (r *Runtime) Deliver(conv Conversation, in Inbound) error {
	b := r.bot(conv.Bot)
	switch {
	case b == nil:
		return fmt.Errorf("%w: %s", ErrUnknownBot, conv.Bot)
	case b.failed.Load():
		return fmt.Errorf("%w: %s", ErrBotFailed, conv.Bot)
	case conv.Group != "" && !r.GroupExists(conv.Bot, conv.Group):
		return fmt.Errorf("%w: %s", ErrUnknownGroup, conv.Group)
	}
	d := &deliver{in: dsl.Message(in.Text), name: in.Name, done: in.Done}
	switch {
	case in.Start:
		d.in = dsl.Input{Kind: dsl.InStart}
	case in.Event != "":
		payload, err := dsl.Normalize(in.Payload)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadPayload, err)
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

// GroupExists reports whether bot has group id.
func (r *Runtime) GroupExists(bot, id string) bool {
	b := r.bot(bot)
	if b == nil {
		return false
	}
	if _, ok := b.groups.Load(id); ok {
		return true
	}
	_, err := b.store.Get(persistence.StateKey(id))
	return err == nil
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
		_ = r.opts.Store.Meta().WriteSync()
		if r.activity.Load() == 0 {
			return nil
		}
	}
}

// Close stops every actor. The store stays open (its owner closes it).
func (r *Runtime) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Settle(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		r.log.Warn("closing before settled", "err", err)
	}
	r.timers.Close()
	r.system.Root.StopFuture(r.root).Wait()
	r.system.Shutdown()
	r.dispatch.close()
}

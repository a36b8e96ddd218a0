package actors

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// botRT is what every actor of one bot shares. Fields are set before the
// bot's actors start and not changed after, except through atomics.
type botRT struct {
	id           string
	rt           *Runtime
	store        persistence.Keyspace
	log          *slog.Logger
	program      atomic.Pointer[dsl.Bot]
	dirs         [3]*actor.PID // by addrKind: sessions, master, groups
	users        userCache
	groups       GroupRegistry // which groups exist
	restarting   sync.Map      // addresses whose instance is restarting
	replay       sync.Map      // address → []any: inputs its next incarnation runs again
	failed       atomic.Bool   // removed, or its directories cannot run (see botSupervisor)
	started      atomic.Bool   // its directories run (AddBot saw it ready)
	masterRetry  atomic.Bool   // a retry of the master's failed load is scheduled
	quarantine   sync.Map      // address → *Quarantine
	nQuarantined atomic.Int64
	machines     machinePool
	botVar       atomic.Pointer[map[string]any] // the script's read-only bot variable
	chatLink     func(platform, group string) (string, error)
	supMu        sync.Mutex
	sup          *actor.PID   // the bot's supervisor (nil while it starts)
	residents    [3]residents // routes to instances, by addrKind
	attaching    attachWaits  // Attach requests waiting for writes
	// counts for status
	active [3]atomic.Int64 // resident instances by addrKind
}

func (b *botRT) setSup(pid *actor.PID) {
	b.supMu.Lock()
	defer b.supMu.Unlock()
	b.sup = pid
}

func (b *botRT) supervisor() *actor.PID {
	b.supMu.Lock()
	defer b.supMu.Unlock()
	return b.sup
}

// programFor returns the current program of an address kind (nil if the
// bot has no such script).
func (b *botRT) programFor(k addrKind) *dsl.Program {
	return b.program.Load().Program(k.role())
}

// userRecord is the user.* record shared by a user's conversations, kept
// while any of them is resident. Turns hold mu while they run, so two
// conversations of one user never write it at once; version orders its
// writes. At rest it is its encoded bytes (tens of bytes): a turn decodes
// it into the map the script sees, and encodes it again if it changed.
type userRecord struct {
	mu      sync.Mutex
	raw     []byte // encoded fields; nil when the user has none stored
	version uint64
	refs    int // resident conversations (guarded by userCache.mu)
}

// userCache holds the records of users with resident conversations.
type userCache struct {
	mu   sync.Mutex
	recs map[string]*userRecord
}

// acquire returns the record of user id, loading it with load on first use.
func (c *userCache) acquire(id string, load func() ([]byte, uint64)) *userRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs == nil {
		c.recs = map[string]*userRecord{}
	}
	r := c.recs[id]
	if r == nil {
		raw, version := load()
		r = &userRecord{raw: raw, version: version}
		c.recs[id] = r
	}
	r.refs++
	return r
}

// release drops a conversation's reference; the last one frees the record.
func (c *userCache) release(id string, r *userRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.refs--
	if r.refs <= 0 && c.recs[id] == r {
		delete(c.recs, id)
	}
}

// forget drops r from the cache (its version is not the stored one): the
// next acquire loads the record again. Holders keep r until they release it.
func (c *userCache) forget(id string, r *userRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs[id] == r {
		delete(c.recs, id)
	}
}

// machinePool lends interpreters to turns: an idle instance holds none.
type machinePool struct{ pool sync.Pool }

// get returns a machine for prog.
func (p *machinePool) get(prog *dsl.Program) *dsl.Machine {
	if m, ok := p.pool.Get().(*dsl.Machine); ok && m.Program() == prog {
		return m
	}
	return dsl.NewMachine(prog)
}

// put returns m, dropping what it still refers to.
func (p *machinePool) put(m *dsl.Machine) {
	m.Release()
	p.pool.Put(m)
}

// setProgram installs the bot's scripts and what its instances share.
func (b *botRT) setProgram(prog *dsl.Bot) {
	v := map[string]any{"id": b.id, "title": prog.Title}
	b.botVar.Store(&v)
	b.program.Store(prog)
}

func (b *botRT) initShared() {
	r := b.rt
	for i := range b.residents {
		b.residents[i].init()
	}
	b.chatLink = func(platform, group string) (string, error) {
		if r.opts.ChatLink == nil {
			return "", fmt.Errorf("chat_link: no public URL is configured")
		}
		return r.opts.ChatLink(b.id, platform, group)
	}
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pacluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
)

// Sentinel errors of the package.
var (
	ErrConfig     = errors.New("cluster: invalid membership config")
	ErrJoin       = errors.New("cluster: join failed")
	ErrBlocked    = errors.New("cluster: this member is on the cluster's block list")
	ErrNoMajority = errors.New("cluster: this member sees no majority of the configured members")
	ErrStopped    = errors.New("cluster: this member has left or was killed")
)

// Defaults and conventions.
const (
	DefaultName          = "botserver"
	Kind                 = "botserver" // the one kind every member advertises; never activated
	DefaultRefreshTTL    = 2 * time.Second
	DefaultProbeInterval = time.Second
	// HealthPortOffset: an automanaged member serves /_health on its remote port + 1.
	HealthPortOffset = 1
	probeActorName   = "botserver-membership"
)

// MembershipConfig configures Join. Provider is "test", "automanaged", "etcd" or "k8s".
type MembershipConfig struct {
	Provider      string
	Name          string           // cluster name (default "botserver")
	Advertise     string           // host:port of this member's remote; "127.0.0.1:0" picks a port (not with automanaged)
	Members       []string         // automanaged: every member's advertise address; also the majority size
	Etcd          []string         // etcd endpoints (provider etcd)
	K8sNamespace  string           // provider k8s: must be empty (see providers.go)
	TestAgent     *test.InMemAgent // provider "test": the agent all members of one process share
	Logger        *slog.Logger     // nil: discard
	RefreshTTL    time.Duration    // automanaged poll interval (default 2s)
	ProbeInterval time.Duration    // how often a member asks its peers whether they block it (default 1s)
	// Actors are spawned by name on the member's actor system before it
	// announces itself, so that no message the others send it once they
	// see it finds its receiver missing (protoactor drops such a message).
	Actors map[string]*actor.Props
}

// Member is one live cluster member.
type Member struct{ ID, Address string }

// Membership is this process's member of the cluster.
type Membership struct {
	cfg      MembershipConfig
	log      *slog.Logger
	sys      *actor.ActorSystem
	cl       *pacluster.Cluster
	prov     provider
	self     Member
	sub      *eventstream.Subscription
	selfSeen chan struct{}
	wake     chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once

	mu        sync.Mutex
	view      []Member        // members of the last topology event
	gone      map[string]bool // ids that left view: protoactor put them on its block list
	blockedBy string          // address of a peer that reported this member blocked (sticky)
	stopped   bool
	subs      []*subscriber
}

// Join makes a new actor system with remote on Advertise, starts protoactor's
// cluster with the provider, and returns once this member sees itself in the
// member list. On failure or ctx expiry it returns an error and releases what it started.
func Join(ctx context.Context, cfg MembershipConfig) (*Membership, error) {
	host, port, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	prov, err := newProvider(ctx, &cfg, port)
	if err != nil {
		return nil, err
	}
	m := &Membership{cfg: cfg, log: cfg.Logger, prov: prov,
		gone: map[string]bool{}, selfSeen: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{})}
	m.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return cfg.Logger.With("lib", "protoactor")
	}))
	kind := pacluster.NewKind(Kind, actor.PropsFromFunc(func(actor.Context) {}))
	pcfg := pacluster.Configure(cfg.Name, prov, disthash.New(), remote.Configure(host, port),
		pacluster.WithKinds(kind))
	m.cl = pacluster.New(m.sys, pcfg)
	m.sub = m.sys.EventStream.Subscribe(m.onEvent)
	if err := m.spawnActors(); err != nil {
		m.abort(false)
		return nil, err
	}
	if err := m.start(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func (c *MembershipConfig) normalize() (string, int, error) {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	host, ps, err := net.SplitHostPort(c.Advertise)
	if err != nil {
		return "", 0, fmt.Errorf("%w: advertise %q: %v", ErrConfig, c.Advertise, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535-HealthPortOffset {
		return "", 0, fmt.Errorf("%w: advertise %q: bad port", ErrConfig, c.Advertise)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%w: advertise %q: needs a host other members can reach", ErrConfig, c.Advertise)
	}
	return host, port, nil
}

// start runs protoactor's StartMember (which may panic and sleeps 1s) off the
// caller's goroutine so that ctx bounds it, then waits to see itself.
func (m *Membership) start(ctx context.Context) error {
	res := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				res <- fmt.Errorf("%v", r)
			}
		}()
		m.cl.StartMember()
		res <- nil
	}()
	select {
	case err := <-res:
		if err != nil {
			m.abort(false)
			return fmt.Errorf("%w: provider %s: %v", ErrJoin, m.cfg.Provider, err)
		}
	case <-ctx.Done():
		go func() { // StartMember cannot be cancelled: clean up once it returns
			if <-res == nil {
				m.abort(true)
			}
		}()
		return fmt.Errorf("%w: provider %s%s: %w", ErrJoin, m.cfg.Provider, m.prov.describe(), ctx.Err())
	}
	m.self = Member{ID: m.sys.ID, Address: m.sys.Address()}
	m.wg.Add(2)
	go m.dispatch()
	go m.probeLoop()
	m.signal()
	select {
	case <-m.selfSeen:
		return nil
	case <-ctx.Done():
		m.Kill()
		return fmt.Errorf("%w: provider %s%s: never saw itself in the member list: %w",
			ErrJoin, m.cfg.Provider, m.prov.describe(), ctx.Err())
	}
}

// spawnActors spawns the probe's answering actor and cfg.Actors, before
// the member is announced.
func (m *Membership) spawnActors() error {
	actors := map[string]*actor.Props{probeActorName: actor.PropsFromFunc(m.answerProbe)}
	for name, props := range m.cfg.Actors {
		actors[name] = props
	}
	for name, props := range actors {
		if _, err := m.sys.Root.SpawnNamed(props, name); err != nil {
			return fmt.Errorf("%w: cannot start actor %s: %v", ErrJoin, name, err)
		}
	}
	return nil
}

// abort releases a member whose start failed; started says remote is up.
func (m *Membership) abort(started bool) {
	m.sys.EventStream.Unsubscribe(m.sub)
	if started {
		m.prov.kill()
		m.sys.Shutdown()
		m.cl.Remote.Shutdown(false)
		return
	}
	m.prov.release()
	m.sys.Shutdown()
	if m.cl.Remote != nil {
		func() {
			defer func() { _ = recover() }() // remote may not have started
			m.cl.Remote.Shutdown(false)
		}()
	}
}

// System is the member's actor system, for spawning named actors on it.
func (m *Membership) System() *actor.ActorSystem { return m.sys }

// Self is this member; Address is the remote's actual host:port.
func (m *Membership) Self() Member { return m.self }

// Members returns the live members (not blocked), sorted by Address, self included.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.liveLocked()
}

func (m *Membership) liveLocked() []Member {
	// The view is filtered by the block list when protoactor builds it.
	return slices.Clone(m.view)
}

// OnChange registers fn, called on one goroutine, in order and never
// concurrently, with the live member list after topology changes. Changes that
// happen while fn runs are coalesced: fn then sees the latest list once.
func (m *Membership) OnChange(fn func([]Member)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = append(m.subs, &subscriber{members: fn})
	m.signal()
}

// OnCutOff registers fn, called on the OnChange goroutine whenever CutOff
// changes: with the error when this member becomes cut off, nil when a lost
// majority comes back (a block never goes away).
func (m *Membership) OnCutOff(fn func(error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = append(m.subs, &subscriber{cutOff: fn})
	m.signal()
}

// CutOff reports why this member must stop serving, or nil.
func (m *Membership) CutOff() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cutOffLocked(m.liveLocked())
}

func (m *Membership) cutOffLocked(live []Member) error {
	switch {
	case m.stopped:
		return ErrStopped
	case m.blockedBy != "":
		return fmt.Errorf("%w: member %s blocks it", ErrBlocked, m.blockedBy)
	}
	if n := len(m.cfg.Members); n > 0 && len(live) < n/2+1 {
		return fmt.Errorf("%w: it sees %d of %d configured members, a majority is %d",
			ErrNoMajority, len(live), n, n/2+1)
	}
	return nil
}

// onEvent runs on the publisher's goroutine (a provider's): it only records.
func (m *Membership) onEvent(evt any) {
	topo, ok := evt.(*pacluster.ClusterTopology)
	if !ok {
		return
	}
	view := make([]Member, 0, len(topo.Members))
	for _, mb := range topo.Members {
		view = append(view, Member{ID: mb.Id, Address: mb.Address()})
	}
	slices.SortFunc(view, func(a, b Member) int {
		if a.Address != b.Address {
			return cmpString(a.Address, b.Address)
		}
		return cmpString(a.ID, b.ID)
	})
	m.mu.Lock()
	for _, old := range m.view {
		if !slices.Contains(view, old) {
			m.gone[old.ID] = true
		}
	}
	m.view = view
	m.mu.Unlock()
	m.signal()
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (m *Membership) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

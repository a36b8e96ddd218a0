package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	pacluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
)

// provider is a protoactor ClusterProvider plus what Join, Kill and Leave need.
type provider interface {
	pacluster.ClusterProvider
	describe() string // for errors, e.g. " (etcd endpoints [...])"
	kill()            // provider side of a simulated crash; StartMember has run
	release()         // free what the constructor took (clients); idempotent
}

func newProvider(ctx context.Context, cfg *MembershipConfig, port int) (provider, error) {
	switch cfg.Provider {
	case "test":
		if cfg.TestAgent == nil {
			return nil, fmt.Errorf("%w: provider test needs TestAgent", ErrConfig)
		}
		return &agentProvider{agent: cfg.TestAgent}, nil
	case "automanaged":
		return newAutoProvider(cfg, port)
	case "etcd":
		return newEtcdProvider(ctx, cfg)
	case "k8s":
		return newK8sProvider(cfg)
	}
	return nil, fmt.Errorf("%w: provider %q: want test, automanaged, etcd or k8s", ErrConfig, cfg.Provider)
}

// agentProvider registers with protoactor's InMemAgent like its test provider,
// without that provider's defects: its TTL goroutine never ends (a leak per
// member), a stopped member's handler keeps updating a dead cluster, and two
// concurrent notifications can apply an older member list after a newer one.
type agentProvider struct {
	agent   *test.InMemAgent
	mu      sync.Mutex // serialises read-and-apply of the agent's list
	cl      *pacluster.Cluster
	id      string
	stopped bool
}

// StartMember registers the member with the shared agent and follows the
// agent's member list (protoactor's ClusterProvider).
func (p *agentProvider) StartMember(c *pacluster.Cluster) error {
	host, port, err := c.ActorSystem.GetHostPort()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.cl, p.id = c, c.ActorSystem.ID
	p.mu.Unlock()
	p.agent.SubscribeStatusUpdate(p.notify)
	p.agent.RegisterService(test.NewAgentServiceStatus(p.id, host, port, c.GetClusterKinds()))
	return nil
}

// StartClient is refused: every process of a test cluster is a member.
func (p *agentProvider) StartClient(*pacluster.Cluster) error {
	return fmt.Errorf("%w: clients are not supported", ErrConfig)
}

// Shutdown deregisters the member from the agent.
func (p *agentProvider) Shutdown(bool) error {
	p.kill()
	return nil
}

func (p *agentProvider) kill() {
	p.mu.Lock()
	already := p.stopped
	p.stopped = true
	p.mu.Unlock()
	if !already && p.id != "" {
		p.agent.DeregisterService(p.id)
	}
}

func (p *agentProvider) release()         {}
func (p *agentProvider) describe() string { return "" }

func (p *agentProvider) notify() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.cl == nil {
		return
	}
	statuses := p.agent.GetStatusHealth()
	members := make([]*pacluster.Member, 0, len(statuses))
	for _, s := range statuses {
		members = append(members, &pacluster.Member{Id: s.ID, Host: s.Host, Port: int32(s.Port),
			Kinds: append([]string(nil), s.Kinds...)})
	}
	p.cl.MemberList.UpdateClusterTopology(members)
}

// autoProvider is protoactor's automanaged provider; its health endpoint is
// on the remote port + HealthPortOffset, of every member in Members.
type autoProvider struct {
	*automanaged.AutoManagedProvider
	health int
}

func newAutoProvider(cfg *MembershipConfig, port int) (provider, error) {
	if port == 0 {
		return nil, fmt.Errorf("%w: provider automanaged: advertise %q needs a fixed port (the others poll port+%d)",
			ErrConfig, cfg.Advertise, HealthPortOffset)
	}
	hosts := make([]string, 0, len(cfg.Members))
	self := false
	for _, a := range cfg.Members {
		h, ps, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(ps)
		if err != nil || perr != nil || n <= 0 || n > 65535-HealthPortOffset {
			return nil, fmt.Errorf("%w: provider automanaged: member %q is not host:port", ErrConfig, a)
		}
		self = self || a == cfg.Advertise
		hosts = append(hosts, net.JoinHostPort(h, strconv.Itoa(n+HealthPortOffset)))
	}
	if !self {
		return nil, fmt.Errorf("%w: provider automanaged: advertise %q is not in members %v",
			ErrConfig, cfg.Advertise, cfg.Members)
	}
	health := port + HealthPortOffset
	// automanaged binds 0.0.0.0:<health> in a goroutine and only logs a failure:
	// check the port now so that Join fails with a clear error.
	l, err := net.Listen("tcp", ":"+strconv.Itoa(health))
	if err != nil {
		return nil, fmt.Errorf("%w: provider automanaged: health port %d: %v", ErrJoin, health, err)
	}
	_ = l.Close()
	return &autoProvider{automanaged.NewWithConfig(cfg.RefreshTTL, health, hosts...), health}, nil
}

func (p *autoProvider) kill()    { _ = p.AutoManagedProvider.Shutdown(false) }
func (p *autoProvider) release() {}
func (p *autoProvider) describe() string {
	return fmt.Sprintf(" (health port %d)", p.health)
}

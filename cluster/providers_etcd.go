//go:build etcd

package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdProvider is protoactor's etcd provider (lease TTL 3 s, prefix watch).
type etcdProvider struct {
	*etcd.Provider
	endpoints []string
}

// newEtcdProvider checks within ctx that the endpoints answer: protoactor's
// StartMember reads with context.TODO and would wait forever.
func newEtcdProvider(ctx context.Context, cfg *MembershipConfig) (provider, error) {
	if len(cfg.Etcd) == 0 {
		return nil, fmt.Errorf("%w: provider etcd needs etcd endpoints", ErrConfig)
	}
	ccfg := clientv3.Config{Endpoints: cfg.Etcd, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("%w: provider etcd (endpoints %v): %w", ErrJoin, cfg.Etcd, err)
	}
	_, err = cli.Get(ctx, "/botserver/"+cfg.Name, clientv3.WithCountOnly())
	_ = cli.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: provider etcd: endpoints %v do not answer: %w", ErrJoin, cfg.Etcd, err)
	}
	p, err := etcd.NewWithConfig("/botserver", ccfg)
	if err != nil {
		return nil, fmt.Errorf("%w: provider etcd (endpoints %v): %w", ErrJoin, cfg.Etcd, err)
	}
	return &etcdProvider{p, cfg.Etcd}, nil
}

func (p *etcdProvider) kill()    { _ = p.Provider.Shutdown(false) }
func (p *etcdProvider) release() {}
func (p *etcdProvider) describe() string {
	return fmt.Sprintf(" (etcd endpoints %v)", p.endpoints)
}

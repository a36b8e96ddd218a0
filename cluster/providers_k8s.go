//go:build k8s

package cluster

import (
	"fmt"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/k8s"
)

// k8sProvider is protoactor's k8s provider: members are pods it labels itself
// (RBAC get/list/watch/patch pods), live while Running and Ready.
type k8sProvider struct{ *k8s.Provider }

func newK8sProvider(cfg *MembershipConfig) (provider, error) {
	if cfg.K8sNamespace != "" {
		return nil, fmt.Errorf("%w: provider k8s: namespace %q cannot be set: the provider at the pinned version uses its pod's service-account namespace",
			ErrConfig, cfg.K8sNamespace)
	}
	p, err := k8s.New()
	if err != nil {
		return nil, fmt.Errorf("%w: provider k8s: %w", ErrJoin, err)
	}
	return &k8sProvider{p}, nil
}

func (p *k8sProvider) kill()            { _ = p.Provider.Shutdown(false) }
func (p *k8sProvider) release()         {}
func (p *k8sProvider) describe() string { return " (kubernetes in-cluster)" }

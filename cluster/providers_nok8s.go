//go:build !k8s

package cluster

import "fmt"

func newK8sProvider(*MembershipConfig) (provider, error) {
	return nil, fmt.Errorf("%w: provider k8s is not built into this binary (build with -tags k8s)", ErrConfig)
}

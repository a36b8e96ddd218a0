//go:build !etcd

package cluster

import (
	"context"
	"fmt"
)

func newEtcdProvider(context.Context, *MembershipConfig) (provider, error) {
	return nil, fmt.Errorf("%w: provider etcd is not built into this binary (build with -tags etcd)", ErrConfig)
}

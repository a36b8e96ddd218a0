// Package cluster makes a botserver process a member of a protoactor-go
// cluster, used only for membership, gossip and remote transport (never grains).
//
// Join starts an actor system with remote on Advertise and a protoactor
// cluster with the chosen provider (test, automanaged, etcd, k8s); topology
// events become a sorted live member list delivered to OnChange callbacks on
// one goroutine. CutOff says when this member must stop serving: a peer blocks
// it (asked by a probe actor every ProbeInterval) or it sees no majority of
// the configured Members.
//
//	m, err := cluster.Join(ctx, cluster.MembershipConfig{Provider: "test", Advertise: "127.0.0.1:0", TestAgent: agent})
//	m.OnChange(func(live []cluster.Member) { /* recompute shard owners */ })
//	defer m.Leave(ctx)
package cluster

// Package cluster is protoactor-go's cluster: membership through a
// ClusterProvider, the MemberList and its ClusterTopology events, gossip
// (heartbeats, the block list), grains by identity, and the Rendezvous hash.
// botserver uses the membership, gossip, remote and Rendezvous only (see
// botserver's cluster package); this copy is patched (../PATCHES.md).
//
//	c := cluster.New(system, cluster.Configure("name", provider, disthash.New(), remote.Configure(host, port)))
//	c.StartMember()
package cluster

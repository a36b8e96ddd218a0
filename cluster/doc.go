// Package cluster makes a botserver process a member of a cluster of
// botserver processes that share one PostgreSQL store. protoactor-go's
// cluster provides the member list and the remote transport; its grains
// are never used.
//
// Membership: Join starts an actor system with remote on Advertise and a
// protoactor cluster with the chosen provider (test, automanaged, etcd,
// k8s); topology events become a sorted live member list delivered to
// OnChange callbacks on one goroutine. CutOff says when this member must
// stop serving: a peer blocks it (asked by a probe actor every
// ProbeInterval) or it sees no majority of the configured Members.
//
// Routing: a Node is the runtime's actors.Router. The instances of a bot
// live in Shards shards placed on the live members by protoactor's
// rendezvous hash; a message for an instance another member hosts is
// forwarded to that member's ingress actor in a pb.Envelope (the one
// message type that crosses the network). Forwarded inputs are kept
// until their turn is durable on the owner, and sent again when the owner
// changes; web connections on one member receive the frames of a
// conversation hosted on another (Gateway, Platform).
//
//	node, _ := cluster.New(cluster.Options{Membership: cfg})
//	rt, _ := actors.New(actors.Options{Router: node, ...})
//	node.Start(ctx, rt) // joins; then start the runtime and add bots
//	web := web.New(web.Options{Gateway: node.Gateway(rt), ...})
//	rt.RegisterPlatform(web.Name, node.Platform(web.Name, web))
package cluster

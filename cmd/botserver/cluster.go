package main

import (
	"context"
	"fmt"

	"botserver"
	"botserver/actors"
	"botserver/cluster"
	pb "botserver/proto"
)

// newNode makes this process's member of the cluster the config names
// (nothing without a cluster section) and makes it the runtime's router.
func (m *Main) newNode(opts *actors.Options) error {
	c := m.Config.Cluster
	if c == nil {
		return nil
	}
	node, err := cluster.New(cluster.Options{Logger: m.Logger,
		Membership: cluster.MembershipConfig{Provider: c.Provider, Name: c.Name, Advertise: c.Advertise,
			Members: c.Members, Etcd: c.Etcd, K8sNamespace: c.K8sNamespace, TestAgent: m.TestAgent, Logger: m.Logger},
		Fenced: m.metrics.FencedWrites,
	})
	if err != nil {
		return err
	}
	m.node = node
	opts.Router = node
	return nil
}

// joinCluster joins the cluster before the bots start, so that they arm
// only the timers of the instances this member hosts.
func (m *Main) joinCluster(ctx context.Context) error {
	if m.node == nil {
		return nil
	}
	if err := m.node.Start(ctx, m.rt); err != nil {
		return fmt.Errorf("cannot join the cluster: %w", err)
	}
	m.Logger.Info("joined the cluster", "self", m.node.Self(), "members", len(m.node.Status().Members))
	return nil
}

// clusterApps wires the application's parts to the cluster: metrics, and
// create_bot and reload on every member.
func (m *Main) clusterApps() {
	if m.node == nil {
		return
	}
	m.metrics.WatchCluster(m.node)
	m.node.OnReload(func(r *pb.Reload) {
		go func() { // starting a bot waits for its supervisor: not on the ingress actor
			if err := m.bots.Apply(context.Background(), r.GetBot(), r.GetCreate()); err != nil {
				m.Logger.Error("cannot apply another member's change of a bot", "bot", r.GetBot(), "created", r.GetCreate(), "err", err)
			}
			m.botsChanged()
		}()
	})
}

// botsChanged hands the runtime the inputs other members forwarded here
// for bots that had not started yet.
func (m *Main) botsChanged() {
	if m.node != nil {
		m.node.BotsChanged()
	}
}

// announce tells the other members that a bot was created or reloaded
// over the admin API here.
func (m *Main) announce(bot string, created bool) {
	if m.node != nil {
		m.node.Broadcast(&pb.Reload{Bot: bot, Create: created})
	}
}

// sharedPlatform is the platform the runtime sends frames through: in a
// cluster, frames also go to the members that hold a conversation's
// connections.
func (m *Main) sharedPlatform(name string, p botserver.Platform) botserver.Platform {
	if m.node == nil {
		return p
	}
	return m.node.Platform(name, p)
}

// clusterUnavailable is why this member does not serve: it is cut off
// from its cluster (nil on a single node).
func (m *Main) clusterUnavailable() error {
	if m.node == nil {
		return nil
	}
	return m.node.Unavailable()
}

// blocked is closed once the other members of the cluster have ejected
// this one (never on a single node).
func (m *Main) blocked() <-chan struct{} {
	if m.node == nil {
		return nil
	}
	return m.node.Blocked()
}

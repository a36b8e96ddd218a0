package metrics

import (
	"botserver/cluster"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	mClusterMembers   = newDesc("botserver_cluster_members", "Live members of the cluster in this member's view.", prometheus.GaugeValue)
	mClusterShards    = newDesc("botserver_cluster_owned_shards", "Shards (of 1024) this member hosts.", prometheus.GaugeValue)
	mClusterCutOff    = newDesc("botserver_cluster_cut_off", "1 while this member is cut off from the cluster and does not serve.", prometheus.GaugeValue)
	mClusterPending   = newDesc("botserver_cluster_pending_inputs", "Inputs forwarded to another member and not acknowledged yet.", prometheus.GaugeValue)
	mClusterForwarded = newDesc("botserver_cluster_forwarded_total", "Inputs sent to the member that hosts their instance (resends included).", prometheus.CounterValue)
	mClusterReceived  = newDesc("botserver_cluster_received_total", "Inputs other members forwarded here.", prometheus.CounterValue)
	mClusterResent    = newDesc("botserver_cluster_resent_total", "Inputs sent again: their owner changed or did not acknowledge them in time.", prometheus.CounterValue)
	mClusterGivenUp   = newDesc("botserver_cluster_given_up_total", "Inputs no member acknowledged, given up.", prometheus.CounterValue)
	mClusterFrames    = newDesc("botserver_cluster_frames_total", "Frames sent to the members that hold a conversation's connections.", prometheus.CounterValue)
	mClusterHandovers = newDesc("botserver_cluster_handovers_total", "Changes of the shard table (members joined or left).", prometheus.CounterValue)
	mClusterUnknown   = newDesc("botserver_cluster_unknown_envelopes_total", "Messages from other members of an unknown kind or version, dropped.", prometheus.CounterValue)
	mClusterParked    = newDesc("botserver_cluster_parked", "Inputs and attaches from other members waiting for their bot to start on this member.", prometheus.GaugeValue)
	mClusterDropped   = newDesc("botserver_cluster_dropped_total", "Inputs and attaches from other members not kept (no room, or parked too long); their senders send them again.", prometheus.CounterValue)
	mClusterRepaired  = newDesc("botserver_cluster_repaired_total", "Conversations with a web connection on this member found without their record, recorded again (a defect: report it).", prometheus.CounterValue)
	clusterDescs      = []desc{mClusterMembers, mClusterShards, mClusterCutOff, mClusterPending, mClusterForwarded, mClusterReceived, mClusterResent, mClusterGivenUp, mClusterFrames, mClusterHandovers, mClusterUnknown, mClusterParked, mClusterDropped, mClusterRepaired}
)

// WatchCluster exports this member's cluster counters.
func (x *Metrics) WatchCluster(n *cluster.Node) {
	x.reg.MustRegister(&clusterCollector{n: n})
}

// clusterCollector reads a member's cluster counters at each scrape.
type clusterCollector struct{ n *cluster.Node }

// Describe sends the descriptions of the cluster metrics.
func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range clusterDescs {
		ch <- d.Desc
	}
}

// Collect sends the member's cluster counters now.
func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.n.Status()
	cut := 0.0
	if s.CutOff != "" {
		cut = 1
	}
	for _, m := range []struct {
		d desc
		v float64
	}{
		{mClusterMembers, float64(len(s.Members))}, {mClusterShards, float64(s.OwnedShards)}, {mClusterCutOff, cut},
		{mClusterPending, float64(s.Pending)}, {mClusterForwarded, float64(s.Forwarded)}, {mClusterReceived, float64(s.Received)},
		{mClusterResent, float64(s.Resent)}, {mClusterGivenUp, float64(s.GivenUp)}, {mClusterFrames, float64(s.Frames)},
		{mClusterHandovers, float64(s.Handovers)}, {mClusterUnknown, float64(s.Unknown)},
		{mClusterParked, float64(s.Parked)}, {mClusterDropped, float64(s.Dropped)},
		{mClusterRepaired, float64(s.Repaired)},
	} {
		ch <- prometheus.MustNewConstMetric(m.d.Desc, m.d.kind, m.v)
	}
}

package cluster

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// memberCollector exports, per ring member as this node's replica knows
// it, the heartbeat age, health and FSM lag behind this node's commit
// index (as of the member's last heartbeat).
type memberCollector struct {
	n         *Node
	age, lag  *prometheus.Desc
	healthy   *prometheus.Desc
	voter     *prometheus.Desc
	ownership *prometheus.Desc
}

func newMemberCollector(n *Node) *memberCollector {
	l := []string{"member"}
	return &memberCollector{
		n:         n,
		age:       prometheus.NewDesc("lode_ring_member_heartbeat_age_seconds", "Age of the member's last committed heartbeat.", l, nil),
		lag:       prometheus.NewDesc("lode_cluster_member_lag_entries", "Raft entries the member had not applied at its last heartbeat, behind this node's commit index.", l, nil),
		healthy:   prometheus.NewDesc("lode_ring_member_healthy", "1 when the member's heartbeat is within -ring.heartbeat-timeout.", l, nil),
		voter:     prometheus.NewDesc("lode_cluster_member_voter", "1 for a Raft voter, 0 for a non-voter.", l, nil),
		ownership: prometheus.NewDesc("lode_ring_member_token_ownership", "Fraction of the token space the ingester owns as first replica.", l, nil),
	}
}

func (c *memberCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.age, c.lag, c.healthy, c.voter, c.ownership} {
		ch <- d
	}
}

func (c *memberCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.n.Ring()
	now := time.Now()
	commit := c.n.raft.CommitIndex()
	own := r.Ownership()
	for _, in := range r.Instances() {
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, now.Sub(time.UnixMilli(in.Heartbeat)).Seconds(), in.ID)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(commit-min(commit, in.AppliedIndex)), in.ID)
		ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, b2f(r.Healthy(&in, now)), in.ID)
		if in.Ingester {
			ch <- prometheus.MustNewConstMetric(c.ownership, prometheus.GaugeValue, own[in.ID], in.ID)
		}
	}
	for _, s := range c.n.RaftInfo().Servers {
		ch <- prometheus.MustNewConstMetric(c.voter, prometheus.GaugeValue, b2f(s.Voter), s.ID)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

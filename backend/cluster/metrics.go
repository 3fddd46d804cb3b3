package cluster

import (
	"strconv"

	"github.com/hashicorp/raft"
	"github.com/lode-logs/lode/backend/ring"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus metrics. Counters and histograms are
// updated by the goroutines named in doc.go; gauges are read at scrape time.
type metrics struct {
	applies        prometheus.Counter   // raft commands proposed by AddChunks
	applyFailures  prometheus.Counter   // proposals that failed
	applyDuration  prometheus.Histogram // propose → applied on this node
	batchRefs      prometheus.Histogram // chunk refs per command
	refsCommitted  prometheus.Counter
	fsmCommands    *prometheus.CounterVec // by result
	fsmSkipped     prometheus.Counter     // log entries already applied (replayed)
	fsmEarlyCommit prometheus.Counter
	fsmRestores    prometheus.Counter
	fsmFailed      prometheus.Gauge
	autoRemoved    prometheus.Counter   // members removed for missing heartbeats
	ringMembers    *prometheus.GaugeVec // by state and role
	ringTokens     prometheus.Gauge

	collectors []prometheus.Collector
}

func newMetrics() *metrics {
	m := &metrics{
		applies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_cluster_applies_total",
			Help: "Raft commands proposed by this node for chunk refs.",
		}),
		applyFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_cluster_apply_failures_total",
			Help: "Proposed Raft commands that failed or were rejected.",
		}),
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lode_cluster_apply_duration_seconds",
			Help:    "Time from proposing a Raft command to its application on this node (commit latency).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batchRefs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lode_cluster_apply_batch_refs",
			Help:    "Chunk refs per Raft command.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 15),
		}),
		refsCommitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_cluster_chunk_refs_committed_total",
			Help: "Chunk refs committed through this node.",
		}),
		fsmCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_cluster_fsm_commands_total",
			Help: "Commands met by the state machine, by result (applied, duplicate, rejected).",
		}, []string{"result"}),
		fsmSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_cluster_fsm_skipped_entries_total",
			Help: "Raft log entries replayed to the state machine that it had already applied.",
		}),
		fsmEarlyCommit: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_cluster_fsm_split_commits_total",
			Help: "Badger transactions committed early because an apply outgrew one transaction.",
		}),
		fsmRestores: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_cluster_fsm_snapshot_restores_total",
			Help: "Snapshots restored into the state machine.",
		}),
		fsmFailed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_cluster_fsm_failed",
			Help: "1 when the state machine stopped applying after a storage error (restart needed).",
		}),
	}
	m.autoRemoved = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lode_ring_members_removed_total",
		Help: "Members the leader removed from the ring and Raft because they missed heartbeats.",
	})
	m.ringMembers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lode_ring_members",
		Help: "Ring members in this node's replica, by state and whether they run the ingester role.",
	}, []string{"state", "ingester"})
	m.ringTokens = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lode_ring_tokens",
		Help: "Tokens in the ring in this node's replica.",
	})
	for _, r := range []string{"applied", "duplicate", "rejected"} {
		m.fsmCommands.WithLabelValues(r)
	}
	m.collectors = []prometheus.Collector{m.applies, m.applyFailures, m.applyDuration, m.batchRefs,
		m.refsCommitted, m.fsmCommands, m.fsmSkipped, m.fsmEarlyCommit, m.fsmRestores, m.fsmFailed,
		m.autoRemoved, m.ringMembers, m.ringTokens}
	return m
}

// addRaftGauges adds the gauges read from r and f at scrape time.
func (m *metrics) addRaftGauges(r *raft.Raft, f *fsm) {
	m.collectors = append(m.collectors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_cluster_raft_state",
			Help: "Raft state of this node: 0 follower, 1 candidate, 2 leader, 3 shutdown.",
		}, func() float64 { return float64(r.State()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_cluster_raft_term",
			Help: "Current Raft term.",
		}, func() float64 { return float64(r.CurrentTerm()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_cluster_raft_commit_index",
			Help: "Index of the last committed Raft log entry known to this node.",
		}, func() float64 { return float64(r.CommitIndex()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_cluster_raft_last_applied_index",
			Help: "Index of the last Raft log entry applied to the local state machine.",
		}, func() float64 { return float64(f.lastApplied()) }),
	)
}

// register registers every collector with reg, undoing on failure.
func (m *metrics) register(reg prometheus.Registerer) error {
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	return nil
}

func (m *metrics) unregister(reg prometheus.Registerer) {
	for _, c := range m.collectors {
		reg.Unregister(c)
	}
}

// setRing updates the ring gauges from the members of a new ring.
func (m *metrics) setRing(ins []ring.Instance) {
	m.ringMembers.Reset()
	tokens := 0
	for _, in := range ins {
		m.ringMembers.WithLabelValues(in.State.String(), strconv.FormatBool(in.Ingester)).Inc()
		tokens += len(in.Tokens)
	}
	m.ringTokens.Set(float64(tokens))
}

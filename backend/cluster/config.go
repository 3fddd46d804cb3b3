package cluster

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config configures the Raft node. Flag defaults are the only defaults.
type Config struct {
	// NodeID is this node's stable Raft id. Empty means: the id persisted
	// in the data directory, else one derived from the hostname, else
	// "lode-1". Once persisted it may not change.
	NodeID string `yaml:"node_id"`
	// RaftAddress is the host:port the Raft transport binds to and
	// advertises to peers.
	RaftAddress string `yaml:"raft_address"`
	// Join lists host:port gRPC addresses of members to join through.
	Join StringList `yaml:"join"`
	// Voters is how many voters the leader keeps; further nodes join as
	// non-voters.
	Voters int `yaml:"voters"`

	HeartbeatTimeout   time.Duration `yaml:"heartbeat_timeout"`
	ElectionTimeout    time.Duration `yaml:"election_timeout"`
	LeaderLeaseTimeout time.Duration `yaml:"leader_lease_timeout"`
	SnapshotInterval   time.Duration `yaml:"snapshot_interval"`
	SnapshotThreshold  uint64        `yaml:"snapshot_threshold"`
	TrailingLogs       uint64        `yaml:"trailing_logs"`

	// ApplyBatchSize caps the chunk refs gathered into one Raft command;
	// ApplyLinger is how long the first write of a batch waits for others.
	ApplyBatchSize int           `yaml:"apply_batch_size"`
	ApplyLinger    time.Duration `yaml:"apply_linger"`
	// ApplyTimeout bounds the wait for a command to be committed, retries
	// through leader changes included.
	ApplyTimeout time.Duration `yaml:"apply_timeout"`

	// RingTokens is how many tokens an ingester takes in the ring.
	RingTokens int `yaml:"ring_tokens"`
	// RingHeartbeatPeriod is how often members report to the leader, and
	// how often the leader commits the reports.
	RingHeartbeatPeriod time.Duration `yaml:"ring_heartbeat_period"`
	// RingHeartbeatTimeout is how long a member may stay silent before the
	// leader removes it from the ring and from Raft.
	RingHeartbeatTimeout time.Duration `yaml:"ring_heartbeat_timeout"`

	// TLS secures internal gRPC and Raft between members.
	TLS TLSConfig `yaml:"tls"`
}

// RegisterFlags registers the -cluster.* flags on f.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.StringVar(&c.NodeID, "cluster.node-id", "", "Stable Raft id of this node. Empty: the id persisted under <data.dir>/raft, else derived from the hostname, else lode-1.")
	f.StringVar(&c.RaftAddress, "cluster.raft-address", "127.0.0.1:9096", "host:port the Raft transport binds to and advertises.")
	f.Var(&c.Join, "cluster.join", "Comma-separated host:port gRPC addresses of cluster members to join through. Empty on a node with no state: bootstrap a new cluster with this node as its first voter.")
	f.IntVar(&c.Voters, "cluster.voters", 3, "Number of Raft voters; nodes beyond it join as non-voters.")
	f.DurationVar(&c.HeartbeatTimeout, "cluster.heartbeat-timeout", time.Second, "Raft heartbeat timeout: how long a follower waits for the leader before starting an election.")
	f.DurationVar(&c.ElectionTimeout, "cluster.election-timeout", time.Second, "Raft election timeout.")
	f.DurationVar(&c.LeaderLeaseTimeout, "cluster.leader-lease-timeout", 500*time.Millisecond, "How long a leader stays leader without contact with a quorum.")
	f.DurationVar(&c.SnapshotInterval, "cluster.snapshot-interval", 2*time.Minute, "How often Raft checks whether to snapshot the state machine.")
	f.Uint64Var(&c.SnapshotThreshold, "cluster.snapshot-threshold", 4096, "Raft log entries since the last snapshot that trigger a new one.")
	f.Uint64Var(&c.TrailingLogs, "cluster.trailing-logs", 2048, "Raft log entries kept after a snapshot, so slow followers can catch up without one.")
	f.IntVar(&c.ApplyBatchSize, "cluster.apply-batch-size", 1024, "Most chunk refs committed in one Raft command.")
	f.DurationVar(&c.ApplyLinger, "cluster.apply-linger", 2*time.Millisecond, "How long a write waits for others to share its Raft command.")
	f.DurationVar(&c.ApplyTimeout, "cluster.apply-timeout", 10*time.Second, "How long a write to the cluster state waits to be committed, retries through leader changes included.")
	f.IntVar(&c.RingTokens, "ring.tokens", 128, "Tokens an ingester takes in the ring.")
	f.DurationVar(&c.RingHeartbeatPeriod, "ring.heartbeat-period", 5*time.Second, "How often members report to the Raft leader, which commits the reports in one command.")
	f.DurationVar(&c.RingHeartbeatTimeout, "ring.heartbeat-timeout", time.Minute, "How long a member may miss heartbeats before the leader removes it from the ring and from Raft.")
	c.TLS.RegisterFlags(f)
}

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if c.NodeID != "" && !nodeIDPattern.MatchString(c.NodeID) {
		return fmt.Errorf("-cluster.node-id %q: want 1-64 letters, digits, '.', '_' or '-'", c.NodeID)
	}
	if err := validateAddress(c.RaftAddress, true); err != nil {
		return fmt.Errorf("-cluster.raft-address: %w", err)
	}
	for _, a := range c.Join {
		if err := validateAddress(a, false); err != nil {
			return fmt.Errorf("-cluster.join: %w", err)
		}
	}
	switch {
	case c.Voters < 1:
		return fmt.Errorf("-cluster.voters %d: must be at least 1", c.Voters)
	case c.HeartbeatTimeout < 5*time.Millisecond:
		return fmt.Errorf("-cluster.heartbeat-timeout %s: must be at least 5ms", c.HeartbeatTimeout)
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return fmt.Errorf("-cluster.election-timeout %s: must not be below -cluster.heartbeat-timeout %s", c.ElectionTimeout, c.HeartbeatTimeout)
	case c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return fmt.Errorf("-cluster.leader-lease-timeout %s: must be between 5ms and -cluster.heartbeat-timeout %s", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	case c.SnapshotInterval < 5*time.Millisecond:
		return fmt.Errorf("-cluster.snapshot-interval %s: must be at least 5ms", c.SnapshotInterval)
	case c.SnapshotThreshold < 1:
		return errors.New("-cluster.snapshot-threshold: must be at least 1")
	case c.ApplyBatchSize < 1 || c.ApplyBatchSize > maxApplyBatchSize:
		return fmt.Errorf("-cluster.apply-batch-size %d: must be between 1 and %d", c.ApplyBatchSize, maxApplyBatchSize)
	case c.ApplyLinger < 0 || c.ApplyLinger > time.Second:
		return fmt.Errorf("-cluster.apply-linger %s: must be between 0 and 1s", c.ApplyLinger)
	case c.ApplyTimeout <= 0:
		return fmt.Errorf("-cluster.apply-timeout %s: must be positive", c.ApplyTimeout)
	case c.RingTokens < 1 || c.RingTokens > 4096:
		return fmt.Errorf("-ring.tokens %d: must be between 1 and 4096", c.RingTokens)
	case c.RingHeartbeatPeriod < 10*time.Millisecond:
		return fmt.Errorf("-ring.heartbeat-period %s: must be at least 10ms", c.RingHeartbeatPeriod)
	case c.RingHeartbeatTimeout < 2*c.RingHeartbeatPeriod:
		return fmt.Errorf("-ring.heartbeat-timeout %s: must be at least twice -ring.heartbeat-period %s", c.RingHeartbeatTimeout, c.RingHeartbeatPeriod)
	}
	return c.TLS.Validate()
}

// maxApplyBatchSize keeps one command well below Raft's entry size limits.
const maxApplyBatchSize = 16384

// validateAddress checks a host:port. An advertised address needs a
// concrete host, not 0.0.0.0 or ::.
func validateAddress(a string, advertised bool) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q: %w", a, err)
	}
	if host == "" {
		return fmt.Errorf("%q: missing host", a)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: bad port %q", a, port)
	}
	if ip := net.ParseIP(host); advertised && ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%q: %s cannot be advertised to peers", a, host)
	}
	return nil
}

// StringList is a list of strings set from a comma-separated flag value.
type StringList []string

// String implements flag.Value.
func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value: it replaces the list with the comma-separated
// elements of v (spaces trimmed, empty elements rejected).
func (l *StringList) Set(v string) error {
	*l = nil
	if strings.TrimSpace(v) == "" {
		return nil
	}
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			return fmt.Errorf("empty element in %q", v)
		}
		*l = append(*l, s)
	}
	return nil
}

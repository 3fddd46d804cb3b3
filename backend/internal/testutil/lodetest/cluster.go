package lodetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/lode-logs/lode/backend/push"
)

// Timings of the cluster harness; the first two are defaults of
// ClusterOptions.
const (
	defaultReadyTimeout     = 60 * time.Second
	defaultRingHBTimeout    = 5 * time.Second
	defaultStatusTimeout    = 5 * time.Second
	clusterPollInterval     = 100 * time.Millisecond
	leaderPollInterval      = 20 * time.Millisecond
	clusterLogTailBytes     = 48 << 10
	clusterMetricsTimeout   = 5 * time.Second
	ringHeartbeatPeriodFlag = "-ring.heartbeat-period=200ms"
)

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	// Args are extra flags for every node (storage, ingester timings...);
	// they come after the cluster flags, so they may override them.
	Args []string
	// Voters is -cluster.voters (0: the flag's default, 3).
	Voters int
	// RingHeartbeatTimeout is -ring.heartbeat-timeout (0: 5s).
	RingHeartbeatTimeout time.Duration
	// ReadyTimeout bounds every wait for a node's /ready (0: 60s).
	ReadyTimeout time.Duration
}

// Node is one member of a Cluster: a Process with a fixed Raft id.
type Node struct {
	*Process
	// ID is the node's -cluster.node-id ("node-<index>").
	ID string
	// Index is the node's position in the Cluster (order of creation).
	Index int

	terms int // SIGTERMs sent by Stop
}

// Cluster runs several lode processes that form one Raft cluster on
// loopback ports. Node 0 bootstraps it; later nodes join through the gRPC
// addresses of the nodes running when they are added. Every node is
// killed when the test ends, and the tail of every node's log is written
// to the test log if the test failed.
//
// Methods must be called from the test's goroutine, except the
// read-only helpers of Node (status, metrics, HTTP), which are safe to
// call concurrently.
type Cluster struct {
	t     testing.TB
	opts  ClusterOptions
	root  string // per-test directory for data dirs and logs
	nodes []*Node
	ports map[int]bool // every port handed to a node, so that none is given twice
}

// StartCluster starts n nodes and waits until every node is ready and
// sees all n as ACTIVE, healthy ring members.
func StartCluster(t testing.TB, n int, o ClusterOptions) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("StartCluster: n = %d, want at least 1", n)
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = defaultReadyTimeout
	}
	if o.RingHeartbeatTimeout <= 0 {
		o.RingHeartbeatTimeout = defaultRingHBTimeout
	}
	// The temporary directory is created before the log dump is
	// registered, so that it is removed only after the dump.
	c := &Cluster{t: t, opts: o, root: t.TempDir(), ports: map[int]bool{}}
	t.Cleanup(func() {
		if t.Failed() {
			c.DumpLogs()
		}
	})
	c.startFresh(c.newNode())
	// The first voters join together; later nodes one at a time, so that
	// the voters are nodes 0 to Voters-1.
	voters := o.Voters
	if voters <= 0 {
		voters = 3
	}
	var group []*Node
	for i := 1; i < n; i++ {
		group = append(group, c.newNode())
		if i >= voters-1 {
			c.startFresh(group...)
			group = nil
		}
	}
	c.startFresh(group...)
	c.WaitRingActive(o.ReadyTimeout)
	return c
}

// newNode prepares (without starting) the next node; it joins through
// every node running now.
func (c *Cluster) newNode() *Node {
	c.t.Helper()
	i := len(c.nodes)
	dir := filepath.Join(c.root, "node-"+strconv.Itoa(i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	p := &Process{t: c.t, DataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "lode.log")}
	nd := &Node{Process: p, ID: "node-" + strconv.Itoa(i), Index: i}
	c.assignPorts(nd)
	p.Args = []string{
		"-cluster.node-id=" + nd.ID,
		ringHeartbeatPeriodFlag,
		"-ring.heartbeat-timeout=" + c.opts.RingHeartbeatTimeout.String(),
		"-cluster.heartbeat-timeout=300ms",
		"-cluster.election-timeout=300ms",
		"-cluster.leader-lease-timeout=300ms",
	}
	if c.opts.Voters > 0 {
		p.Args = append(p.Args, "-cluster.voters="+strconv.Itoa(c.opts.Voters))
	}
	var join []string
	for _, o := range c.nodes {
		if o.Running() {
			join = append(join, "127.0.0.1:"+strconv.Itoa(o.GRPCPort))
		}
	}
	if i > 0 && len(join) == 0 {
		c.t.Fatalf("cannot add %s: no running node to join through", nd.ID)
	}
	if len(join) > 0 {
		p.Args = append(p.Args, "-cluster.join="+strings.Join(join, ","))
	}
	p.Args = append(p.Args, c.opts.Args...)
	c.t.Cleanup(p.Kill)
	c.nodes = append(c.nodes, nd)
	return nd
}

// AddNode starts one more node, joining through the running nodes, and
// waits until it is ready.
func (c *Cluster) AddNode() *Node {
	c.t.Helper()
	nd := c.newNode()
	c.startFresh(nd)
	return nd
}

// assignPorts gives n three loopback ports no other node of the cluster
// was given.
func (c *Cluster) assignPorts(n *Node) {
	c.t.Helper()
	pick := func() int {
		for range 100 {
			if p := FreePort(c.t); !c.ports[p] {
				c.ports[p] = true
				return p
			}
		}
		c.t.Fatal("no unused free port found")
		return 0
	}
	n.HTTPPort, n.GRPCPort, n.RaftPort = pick(), pick(), pick()
	n.URL = "http://127.0.0.1:" + strconv.Itoa(n.HTTPPort)
}

// startFresh launches nodes that never ran and waits until they are
// ready. A node that fails to bind a port (taken by some other process
// since it was picked) gets new ports and an empty data directory, up to
// three times.
func (c *Cluster) startFresh(nodes ...*Node) {
	c.t.Helper()
	for _, n := range nodes {
		n.Launch()
	}
	for _, n := range nodes {
		for try := 1; ; try++ {
			err := n.waitReadyErr(c.opts.ReadyTimeout)
			if err == nil {
				break
			}
			if try == 3 || n.Running() || !strings.Contains(n.Log(), "address already in use") {
				c.t.Fatal(err)
			}
			c.t.Logf("%s: a port was taken; starting it again on new ports", n.ID)
			if err := os.RemoveAll(n.DataDir); err != nil {
				c.t.Fatal(err)
			}
			c.assignPorts(n)
			n.Launch()
		}
	}
}

// Stop sends SIGTERM (a graceful leave) and waits for a clean exit.
func (n *Node) Stop() {
	n.t.Helper()
	n.terms++
	n.Process.Stop()
}

// Node returns the i-th node (in order of creation).
func (c *Cluster) Node(i int) *Node { return c.nodes[i] }

// Nodes returns every node ever added, running or not.
func (c *Cluster) Nodes() []*Node { return append([]*Node(nil), c.nodes...) }

// Running returns the nodes whose process runs.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, n := range c.nodes {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// RestartAll starts every stopped node at once (they may need each other
// to elect a leader) and waits until all are ready.
func (c *Cluster) RestartAll() {
	c.t.Helper()
	var started []*Node
	for _, n := range c.nodes {
		if !n.Running() {
			n.Launch()
			started = append(started, n)
		}
	}
	for _, n := range started {
		n.waitReady(c.opts.ReadyTimeout)
	}
}

// Launch starts the process on its ports and data directory without
// waiting for /ready (Restart waits). Used when a node cannot become ready
// on its own, e.g. when all voters restart together.
func (p *Process) Launch() {
	p.t.Helper()
	if p.Running() {
		p.t.Fatalf("launch lode on port %d: it is running", p.HTTPPort)
	}
	args := append([]string{
		"-server.http-listen-address=127.0.0.1",
		"-server.http-listen-port=" + strconv.Itoa(p.HTTPPort),
		"-server.grpc-listen-address=127.0.0.1",
		"-server.grpc-listen-port=" + strconv.Itoa(p.GRPCPort),
		"-cluster.raft-address=127.0.0.1:" + strconv.Itoa(p.RaftPort),
		"-data.dir=" + p.DataDir,
		"-log.level=warn",
	}, p.Args...)
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== launch %s\n", time.Now().Format(time.RFC3339Nano))
	p.cmd = exec.Command(Binary(p.t), args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}(p.cmd, p.done)
}

// Running reports whether the process has been started and not exited.
func (p *Process) Running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Exited is closed when the current process exits (nil before a start).
func (p *Process) Exited() <-chan struct{} { return p.done }

// ExitState describes how the last process exited ("" while it runs).
func (p *Process) ExitState() string {
	if p.Running() || p.cmd == nil || p.cmd.ProcessState == nil {
		return ""
	}
	return p.cmd.ProcessState.String()
}

// waitReady is WaitReady with the node's id in the failure message.
func (n *Node) waitReady(timeout time.Duration) {
	n.t.Helper()
	if err := n.waitReadyErr(timeout); err != nil {
		n.t.Fatal(err)
	}
}

func (n *Node) waitReadyErr(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if !n.Running() {
			return fmt.Errorf("%s exited before it was ready (%s); log:\n%s", n.ID, n.ExitState(), tail(n.Log(), clusterLogTailBytes))
		}
		r, err := n.DoWithin(2*time.Second, http.MethodGet, "/ready", nil, nil)
		if err == nil && r.Status == http.StatusOK {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v (last answer: %s)", n.ID, timeout, last)
}

// WaitReady polls /ready until it answers 200.
func (n *Node) WaitReady(timeout time.Duration) {
	n.t.Helper()
	n.waitReady(timeout)
}

// DumpLogs writes the tail of every node's log to the test log, with a
// warning for nodes that received more SIGTERM/SIGINT than Stop sent
// (another process signalled them).
func (c *Cluster) DumpLogs() {
	for _, n := range c.nodes {
		log := n.Log()
		warn := ""
		if got := strings.Count(log, `msg="lode stopping"`); got > n.terms {
			warn = fmt.Sprintf(" WARNING: stopped by a signal %d times, the test sent SIGTERM %d times", got, n.terms)
		}
		c.t.Logf("===== %s (http %d, grpc %d, raft %d, running %v %s)%s log tail:\n%s",
			n.ID, n.HTTPPort, n.GRPCPort, n.RaftPort, n.Running(), n.ExitState(), warn, tail(log, clusterLogTailBytes))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "[...]\n" + s
}

// WaitFor polls cond every 100ms until it returns nil, and fails the test
// with cond's last error if that does not happen within timeout.
func (c *Cluster) WaitFor(timeout time.Duration, what string, cond func() error) {
	c.t.Helper()
	if err := Poll(timeout, clusterPollInterval, cond); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// Poll calls cond every interval until it returns nil, or returns its last
// error once timeout has passed.
func Poll(timeout, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not reached within %v: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}

// WaitRingActive waits until every running node's ring lists exactly the
// running nodes, all ACTIVE and healthy.
func (c *Cluster) WaitRingActive(timeout time.Duration) {
	c.t.Helper()
	c.WaitFor(timeout, "ring of every running node shows the running nodes ACTIVE", func() error {
		running := c.Running()
		want := map[string]bool{}
		for _, n := range running {
			want[n.ID] = true
		}
		for _, n := range running {
			rs, err := n.Ring()
			if err != nil {
				return err
			}
			if len(rs.Instances) != len(want) {
				return fmt.Errorf("%s: ring has %d instances, want %d: %+v", n.ID, len(rs.Instances), len(want), rs.Instances)
			}
			for _, in := range rs.Instances {
				if !want[in.ID] || in.State != "ACTIVE" || !in.Healthy {
					return fmt.Errorf("%s: ring instance %+v", n.ID, in)
				}
			}
		}
		return nil
	})
}

// ClusterStatus is the JSON of GET /cluster?format=json.
type ClusterStatus struct {
	NodeID       string          `json:"node_id"`
	Leader       string          `json:"leader"`
	LeaderAddr   string          `json:"leader_addr"`
	Term         uint64          `json:"term"`
	CommitIndex  uint64          `json:"commit_index"`
	AppliedIndex uint64          `json:"applied_index"`
	Members      []ClusterMember `json:"members"`
}

// ClusterMember is one member in ClusterStatus.
type ClusterMember struct {
	ID           string `json:"id"`
	RaftAddr     string `json:"raft_addr"`
	GRPCAddr     string `json:"grpc_addr"`
	HTTPAddr     string `json:"http_addr"`
	Suffrage     string `json:"suffrage"` // "voter", "nonvoter", or "" (ring only)
	State        string `json:"state"`
	Leader       bool   `json:"leader"`
	Healthy      bool   `json:"healthy"`
	AppliedIndex uint64 `json:"applied_index"`
	Lag          uint64 `json:"lag"`
}

// Member returns the member with the given id.
func (s ClusterStatus) Member(id string) (ClusterMember, bool) {
	for _, m := range s.Members {
		if m.ID == id {
			return m, true
		}
	}
	return ClusterMember{}, false
}

// Voters counts the members with suffrage "voter".
func (s ClusterStatus) Voters() int {
	v := 0
	for _, m := range s.Members {
		if m.Suffrage == "voter" {
			v++
		}
	}
	return v
}

// RingStatus is the JSON of GET /ring?format=json.
type RingStatus struct {
	ReplicationFactor int            `json:"replication_factor"`
	Instances         []RingInstance `json:"instances"`
}

// RingInstance is one ring member in RingStatus.
type RingInstance struct {
	ID        string  `json:"id"`
	Addr      string  `json:"addr"`
	State     string  `json:"state"`
	Tokens    int     `json:"tokens"`
	Ownership float64 `json:"ownership"`
	Healthy   bool    `json:"healthy"`
}

// Instance returns the ring instance with the given id.
func (s RingStatus) Instance(id string) (RingInstance, bool) {
	for _, in := range s.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return RingInstance{}, false
}

// Cluster returns the node's /cluster status.
func (n *Node) Cluster() (ClusterStatus, error) {
	var s ClusterStatus
	err := n.getJSON("/cluster?format=json", &s)
	return s, err
}

// Ring returns the node's /ring status.
func (n *Node) Ring() (RingStatus, error) {
	var s RingStatus
	err := n.getJSON("/ring?format=json", &s)
	return s, err
}

func (n *Node) getJSON(path string, v any) error {
	r, err := n.DoWithin(defaultStatusTimeout, http.MethodGet, path, nil, nil)
	if err != nil {
		return fmt.Errorf("%s: GET %s: %w", n.ID, path, err)
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("%s: GET %s: %d %s", n.ID, path, r.Status, bytes.TrimSpace(r.Body))
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("%s: GET %s: decode: %w", n.ID, path, err)
	}
	return nil
}

// DoWithin is Do bounded by d.
func (p *Process) DoWithin(d time.Duration, method, path string, header http.Header, body []byte) (Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return Response{Status: resp.StatusCode, Body: buf.Bytes(), Header: resp.Header}, err
}

// PushProtoWithin is PushProto bounded by d.
func (p *Process) PushProtoWithin(d time.Duration, req *push.Request) (Response, error) {
	body := snappy.Encode(nil, req.AppendMarshal(nil))
	return p.DoWithin(d, http.MethodPost, "/loki/api/v1/push",
		http.Header{"Content-Type": {"application/x-protobuf"}}, body)
}

// Flush asks the node's ingester to flush everything it buffers; it
// returns an error unless the answer is 204.
func (p *Process) Flush(d time.Duration) error {
	r, err := p.DoWithin(d, http.MethodPost, "/flush", nil, nil)
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if r.Status != http.StatusNoContent {
		return fmt.Errorf("flush: %d %s", r.Status, bytes.TrimSpace(r.Body))
	}
	return nil
}

// Metrics returns the node's /metrics as sums per metric name (all label
// sets of a name added up). Histograms and summaries appear under their
// _bucket, _sum and _count names.
func (p *Process) Metrics() (map[string]float64, error) {
	r, err := p.DoWithin(clusterMetricsTimeout, http.MethodGet, "/metrics", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("metrics: %d %s", r.Status, bytes.TrimSpace(r.Body))
	}
	return parseMetricSums(r.Body)
}

// parseMetricSums reads the Prometheus text format.
func parseMetricSums(b []byte) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("metrics: bad line %q", line)
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: value of %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// LeaderNow returns the running node that reports itself as the Raft
// leader in /cluster (the one with the highest term if several do, as
// happens for a moment after a partition).
func (c *Cluster) LeaderNow() (*Node, error) {
	var (
		best  *Node
		term  uint64
		errs  []error
		views []string
	)
	for _, n := range c.Running() {
		s, err := n.Cluster()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		views = append(views, fmt.Sprintf("%s: leader %q term %d", n.ID, s.Leader, s.Term))
		if s.Leader == n.ID && s.NodeID == n.ID && (best == nil || s.Term > term) {
			best, term = n, s.Term
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no running node reports itself as leader (%s): %w", strings.Join(views, "; "), errors.Join(errs...))
	}
	return best, nil
}

// WaitLeader waits until a running node other than the excluded ones is
// the leader, both in its own view and in the view of every other
// running node, and returns it and how long the wait took.
func (c *Cluster) WaitLeader(timeout time.Duration, exclude ...*Node) (*Node, time.Duration) {
	c.t.Helper()
	begin := time.Now()
	var leader *Node
	err := Poll(timeout, leaderPollInterval, func() error {
		l, err := c.LeaderNow()
		if err != nil {
			return err
		}
		for _, x := range exclude {
			if l == x {
				return fmt.Errorf("%s still leads", l.ID)
			}
		}
		for _, n := range c.Running() {
			s, err := n.Cluster()
			if err != nil {
				return err
			}
			if s.Leader != l.ID {
				return fmt.Errorf("%s sees leader %q, %s leads", n.ID, s.Leader, l.ID)
			}
		}
		leader = l
		return nil
	})
	if err != nil {
		c.t.Fatalf("wait for a leader: %v", err)
	}
	return leader, time.Since(begin)
}

// FirstLeaderSeen polls the given nodes' /cluster until one of them names
// a leader that is not among the excluded ids, and returns that leader's
// id. It is meant for measuring failover: it returns as soon as any
// survivor knows the new leader.
func FirstLeaderSeen(nodes []*Node, timeout time.Duration, excluded ...string) (string, error) {
	var leader string
	err := Poll(timeout, leaderPollInterval, func() error {
		var views []string
		for _, n := range nodes {
			s, err := n.Cluster()
			if err != nil {
				views = append(views, err.Error())
				continue
			}
			ok := s.Leader != ""
			for _, x := range excluded {
				ok = ok && s.Leader != x
			}
			if ok {
				leader = s.Leader
				return nil
			}
			views = append(views, fmt.Sprintf("%s: leader %q", n.ID, s.Leader))
		}
		return errors.New(strings.Join(views, "; "))
	})
	return leader, err
}

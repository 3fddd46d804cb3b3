package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/ring"
)

// memTransport routes cluster calls to nodes in this process by gRPC
// address; a "down" address fails like an unreachable member.
type memTransport struct {
	mu    sync.Mutex
	nodes map[string]*Node
	down  map[string]bool
}

var errUnreachable = errors.New("member unreachable")

func (m *memTransport) ClusterCall(ctx context.Context, addr, op string, body []byte) ([]byte, error) {
	m.mu.Lock()
	n, ok := m.nodes[addr]
	down := m.down[addr]
	m.mu.Unlock()
	if !ok || down {
		return nil, fmt.Errorf("%s: %w", addr, errUnreachable)
	}
	return n.Handle(ctx, op, append([]byte(nil), body...))
}

func (m *memTransport) set(addr string, n *Node, down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes[addr] = n
	m.down[addr] = down
}

type testCluster struct {
	t     *testing.T
	tr    *memTransport
	nodes []*Node
	extra []string
}

func newTestCluster(t *testing.T, extra ...string) *testCluster {
	return &testCluster{t: t, tr: &memTransport{nodes: map[string]*Node{}, down: map[string]bool{}}, extra: extra}
}

// add starts node i (id lode-i, gRPC address "grpc-i") joining through
// the first node, or bootstrapping when it is the first.
func (c *testCluster) add(ingester bool) *Node {
	c.t.Helper()
	i := len(c.nodes)
	// Raft timeouts a loaded 2-core machine keeps: elections must not flap.
	args := append([]string{"-cluster.node-id=" + nodeName(i), "-ring.heartbeat-period=50ms", "-ring.heartbeat-timeout=2s",
		"-cluster.heartbeat-timeout=300ms", "-cluster.election-timeout=300ms", "-cluster.leader-lease-timeout=300ms"}, c.extra...)
	if i > 0 {
		args = append(args, "-cluster.join=grpc-0:1")
	}
	cfg := testConfig(c.t, args...)
	addr := fmt.Sprintf("grpc-%d:1", i)
	n, err := New(cfg, Options{
		DataDir: c.t.TempDir(), Registerer: prometheus.NewRegistry(), Transport: c.tr,
		Self: Self{GRPCAddr: addr, HTTPAddr: fmt.Sprintf("http-%d:1", i), Ingester: ingester},
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = n.Close() })
	c.tr.set(addr, n, false)
	c.nodes = append(c.nodes, n)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.SetState(ctx, ring.Active); err != nil {
		c.t.Fatalf("node %d: %v", i, err)
	}
	return n
}

func nodeName(i int) string { return fmt.Sprintf("lode-%d", i) }

// eventually polls cond until it holds or 20s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func suffrage(t *testing.T, n *Node) map[string]raft.ServerSuffrage {
	t.Helper()
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	out := map[string]raft.ServerSuffrage{}
	for _, s := range f.Configuration().Servers {
		out[string(s.ID)] = s.Suffrage
	}
	return out
}

func waitLeader(t *testing.T, c *testCluster) *Node {
	t.Helper()
	var ld *Node
	eventually(t, "a leader", func() bool { ld = leaderOf(c); return ld != nil })
	return ld
}

func leaderOf(c *testCluster) *Node {
	for _, n := range c.nodes {
		if n.raft.State() == raft.Leader {
			return n
		}
	}
	return nil
}

func TestMembershipJoinVotersAndNonVoters(t *testing.T) {
	c := newTestCluster(t)
	for range 4 {
		c.add(true)
	}
	got := suffrage(t, c.nodes[0])
	want := map[string]raft.ServerSuffrage{"lode-0": raft.Voter, "lode-1": raft.Voter, "lode-2": raft.Voter, "lode-3": raft.Nonvoter}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("suffrage = %v, want %v", got, want)
	}
	// Every replica, the non-voter's included, sees four ACTIVE ingesters
	// with disjoint tokens.
	for i, n := range c.nodes {
		eventually(t, fmt.Sprintf("ring of node %d", i), func() bool { return len(n.Ring().Instances()) == 4 })
		seen := map[uint32]string{}
		for _, in := range n.Ring().Instances() {
			if in.State != ring.Active || len(in.Tokens) != 128 {
				t.Fatalf("node %d sees %s in %s with %d tokens", i, in.ID, in.State, len(in.Tokens))
			}
			for _, tok := range in.Tokens {
				if o, dup := seen[tok]; dup {
					t.Fatalf("token %d owned by %s and %s", tok, o, in.ID)
				}
				seen[tok] = in.ID
			}
		}
	}
	// Heartbeats reach the ring through the leader.
	in, _ := c.nodes[3].Ring().Instance("lode-3")
	before := in.Heartbeat
	eventually(t, "a newer heartbeat of lode-3", func() bool {
		in, _ := c.nodes[1].Ring().Instance("lode-3")
		return in.Heartbeat > before && in.AppliedIndex > 0
	})
}

func TestMembershipFollowerWritesAreForwarded(t *testing.T) {
	c := newTestCluster(t)
	for range 3 {
		c.add(true)
	}
	ld := waitLeader(t, c)
	var follower *Node
	for _, n := range c.nodes {
		if n != ld {
			follower = n
		}
	}
	entries := testEntries(40)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := follower.AddChunks(ctx, entries); err != nil {
		t.Fatalf("AddChunks on a follower: %v", err)
	}
	want := readAll(t, ld)
	if len(want) < 40 {
		t.Fatalf("leader's index has %d lines", len(want))
	}
	for i, n := range c.nodes {
		eventually(t, fmt.Sprintf("index of node %d", i), func() bool { return len(readAll(t, n)) == len(want) })
		requireEqual(t, "index", readAll(t, n), want)
	}
}

func TestMembershipSilentMemberIsRemovedAndNonVoterPromoted(t *testing.T) {
	c := newTestCluster(t)
	for range 4 {
		c.add(true)
	}
	// Silence a voter that does not lead: close it as a crash would.
	var victim *Node
	for _, n := range c.nodes[:3] {
		if n.raft.State() != raft.Leader {
			victim = n
			break
		}
	}
	c.tr.set(victim.self.GRPCAddr, victim, true)
	_ = victim.Close()
	ld := waitLeader(t, c)
	eventually(t, "removal of the silent member", func() bool {
		_, inRing := ld.Ring().Instance(victim.id)
		_, inRaft := suffrage(t, ld)[victim.id]
		return !inRing && !inRaft
	})
	eventually(t, "promotion of the non-voter", func() bool {
		s := suffrage(t, ld)
		voters := 0
		for _, v := range s {
			if v == raft.Voter {
				voters++
			}
		}
		return voters == 3 && len(s) == 3
	})
	removed := 0.0
	for _, n := range c.nodes {
		removed += value(t, n.metrics.autoRemoved)
	}
	if removed < 1 {
		t.Fatal("removal not counted")
	}
}

func TestMembershipLeaveTransfersLeadership(t *testing.T) {
	c := newTestCluster(t)
	for range 3 {
		c.add(true)
	}
	ld := waitLeader(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ld.SetState(ctx, ring.Leaving); err != nil {
		t.Fatal(err)
	}
	if err := ld.Leave(ctx); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	var other *Node
	for _, n := range c.nodes {
		if n != ld {
			other = n
		}
	}
	eventually(t, "the leaver gone from ring and raft", func() bool {
		_, inRing := other.Ring().Instance(ld.id)
		_, inRaft := suffrage(t, other)[ld.id]
		return !inRing && !inRaft && other.raft.Leader() != ""
	})
	if _, id := other.raft.LeaderWithID(); string(id) == ld.id {
		t.Fatal("leader did not change")
	}
}

func TestMembershipLoneNodeStaysOnLeave(t *testing.T) {
	c := newTestCluster(t)
	n := c.add(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := suffrage(t, n)[n.id]; !ok || !n.IsLeader() {
		t.Fatal("a lone node removed itself")
	}
}

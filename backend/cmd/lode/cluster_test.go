package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
)

// The cluster tests run real lode processes on loopback ports against a
// real MinIO, push lines with unique ids from several goroutines while
// they break the cluster, and then read every node back: every
// acknowledged (204) id must be visible exactly once, and no id twice.
// Pushes that fail (transport error, 5xx) are retried unchanged on the
// next node and are not counted until one is acknowledged. LODE_SOAK=1
// runs them with more load and longer outages.

// keepDeadMembers is a -ring.heartbeat-timeout longer than the outages of
// the tests whose crashed node comes back, so that it comes back as a
// member (TestClusterRemovedNodeRejoins covers the return of a removed
// node).
const keepDeadMembers = 2 * time.Minute

// TestClusterKillNonLeader: a follower is killed (SIGKILL) under load.
// Pushes keep being acknowledged, queries on the survivors keep
// succeeding, and after the node comes back nothing acknowledged is lost
// or doubled, on any node.
func TestClusterKillNonLeader(t *testing.T) {
	c, _, l, prof := startLoaded(t, 3, keepDeadMembers, "crash")

	_, victim := nonLeader(t, c, false)
	survivors := without(c.Running(), victim)
	pr := startProber(survivors, l.begin)
	victim.Kill()
	l.SetTargets(survivors)
	t.Logf("killed %s", victim.ID)
	ackedAtKill := l.Acked()
	sleepPhase(t, "outage", prof.outage)
	ok, failed := pr.Stop()
	t.Logf("queries on the survivors during the outage: %d succeeded, %d failed", ok, len(failed))
	if len(failed) > 0 {
		t.Errorf("queries on survivors failed during the outage, first: %s", failed[0])
	}
	if ok == 0 {
		t.Error("no query ran during the outage")
	}
	if l.Acked() <= ackedAtKill {
		t.Errorf("no push acknowledged during the outage (%d before, %d after)", ackedAtKill, l.Acked())
	}

	victim.Restart()
	c.WaitRingActive(30 * time.Second)
	l.SetTargets(c.Running())
	sleepPhase(t, "load after the restart", prof.after)
	l.Stop()
	l.Report()
	l.Verify(c.Running()...)
}

// TestClusterKillLeader: the Raft leader is killed under load (several
// times in the soak variant). A survivor is elected (the failover time is
// logged), pushes go on, queries on the survivors keep succeeding, flushes
// commit through the new leader, and nothing acknowledged is lost.
func TestClusterKillLeader(t *testing.T) {
	c, _, l, prof := startLoaded(t, 3, keepDeadMembers, "crash")

	var failovers []time.Duration
	for round := range prof.rounds {
		leader, _ := c.WaitLeader(30 * time.Second)
		survivors := without(c.Running(), leader)
		pr := startProber(survivors, l.begin)
		begin := time.Now()
		leader.Kill()
		l.SetTargets(survivors)
		newLeader, err := lodetest.FirstLeaderSeen(survivors, 30*time.Second, leader.ID)
		failover := time.Since(begin)
		if err != nil {
			t.Fatalf("no new leader after killing %s: %v", leader.ID, err)
		}
		failovers = append(failovers, failover)
		t.Logf("leader failover: %s (round %d: %s killed, %s elected)", failover.Round(time.Millisecond), round+1, leader.ID, newLeader)
		l.WaitAcked(c, 100, 30*time.Second, "pushes acknowledged after the failover")
		sleepPhase(t, "load without the old leader", prof.outage)

		// Flushing commits chunk refs through Raft: it must work with the
		// new leader.
		flushedBefore := sumMetric(t, survivors, "lode_ingester_chunks_flushed_total")
		c.WaitFor(30*time.Second, "survivors flush through the new leader", func() error {
			return errors.Join(mapErrors(flushAll(survivors, 10*time.Second))...)
		})
		if after := sumMetric(t, survivors, "lode_ingester_chunks_flushed_total"); after <= flushedBefore {
			t.Errorf("survivors flushed no chunk after the failover (%v before, %v after)", flushedBefore, after)
		}
		ok, failed := pr.Stop()
		t.Logf("queries on the survivors without the old leader: %d succeeded, %d failed", ok, len(failed))
		if len(failed) > 0 {
			t.Errorf("queries on survivors failed after the leader died, first: %s", failed[0])
		}

		leader.Restart()
		c.WaitRingActive(30 * time.Second)
		l.SetTargets(c.Running())
		sleepPhase(t, "load after the old leader is back", prof.after)
	}
	l.Stop()
	t.Logf("figures: leader failover over %d rounds: %s", len(failovers), durationStats(failovers))
	l.Report()
	l.Verify(c.Running()...)
}

// TestClusterKillAll: every node is killed at once under load and the
// cluster is started again from its data directories (several times in
// the soak variant): nothing acknowledged is lost, and the restarted
// cluster takes writes.
func TestClusterKillAll(t *testing.T) {
	c, _, l, prof := startLoaded(t, 3, 0, "crash")

	var restarts []time.Duration
	for round := range prof.rounds {
		for _, n := range c.Nodes() {
			n.Kill()
		}
		l.Stop()
		t.Logf("round %d: killed every node with %d lines acknowledged", round+1, l.Acked())

		begin := time.Now()
		c.RestartAll()
		c.WaitRingActive(30 * time.Second)
		leader, _ := c.WaitLeader(30 * time.Second)
		restarts = append(restarts, time.Since(begin))
		t.Logf("restart of all nodes: ready in %s, leader %s", time.Since(begin).Round(time.Millisecond), leader.ID)
		l.Verify(c.Running()...)

		l.SetTargets(c.Running())
		l.Start()
		l.WaitAcked(c, 100, 30*time.Second, "pushes acknowledged after the restart")
		sleepPhase(t, "load after the restart", prof.after)
	}
	l.Stop()
	t.Logf("figures: whole-cluster restart until ready over %d rounds: %s", len(restarts), durationStats(restarts))
	l.Report()
	l.Verify(c.Running()...)
}

// TestClusterObjectStoreOutage: MinIO is down for a while under load.
// Pushes keep being acknowledged (they only need the ingesters), flushes
// fail and chunks queue up; once MinIO is back the queues drain and
// everything acknowledged is readable.
func TestClusterObjectStoreOutage(t *testing.T) {
	c, m, l, prof := startLoaded(t, 3, 0, "outage")
	nodes := c.Running()

	failuresBefore := sumMetric(t, nodes, "lode_ingester_flush_failures_total")
	m.Stop()
	ackedAtStop := l.Acked()
	t.Logf("MinIO stopped")
	maxBacklog := 0.0
	for end := time.Now().Add(prof.outage); time.Now().Before(end); {
		// Forced flushes cut every open chunk and try to write it; they
		// fail while MinIO is down and the chunks stay queued.
		for id, err := range flushAll(nodes, 3*time.Second) {
			if err == nil {
				t.Errorf("%s: flush succeeded while MinIO was down", id)
			}
		}
		maxBacklog = max(maxBacklog, sumMetric(t, nodes, "lode_ingester_flush_backlog_chunks"))
		time.Sleep(500 * time.Millisecond)
	}
	failures := sumMetric(t, nodes, "lode_ingester_flush_failures_total") - failuresBefore
	t.Logf("during the outage: %d lines acknowledged, %v flush failures, flush backlog up to %v chunks",
		l.Acked()-ackedAtStop, failures, maxBacklog)
	if l.Acked() <= ackedAtStop {
		t.Errorf("no push acknowledged while MinIO was down (%d before, %d after)", ackedAtStop, l.Acked())
	}
	if failures == 0 || maxBacklog == 0 {
		t.Errorf("the outage went unnoticed: %v flush failures, backlog up to %v chunks", failures, maxBacklog)
	}

	m.Restart()
	t.Logf("MinIO restarted")
	sleepPhase(t, "load after the outage", prof.after)
	l.Stop()
	begin := time.Now()
	c.WaitFor(2*time.Minute, "every node flushes everything", func() error {
		return errors.Join(mapErrors(flushAll(nodes, 30*time.Second))...)
	})
	c.WaitFor(30*time.Second, "flush backlogs drain", func() error {
		for _, n := range nodes {
			mm, err := n.Metrics()
			if err != nil {
				return err
			}
			if mm["lode_ingester_flush_backlog_chunks"] != 0 || mm["lode_ingester_flush_backlog_bytes"] != 0 {
				return fmt.Errorf("%s: backlog %v chunks, %v bytes", n.ID,
					mm["lode_ingester_flush_backlog_chunks"], mm["lode_ingester_flush_backlog_bytes"])
			}
		}
		return nil
	})
	t.Logf("backlog drained %s after the load stopped; %v chunks flushed in all",
		time.Since(begin).Round(time.Millisecond), sumMetric(t, nodes, "lode_ingester_chunks_flushed_total"))
	l.Report()
	l.Verify(nodes...)
}

// TestClusterDeadIngesterRemoved: in a 4-node cluster a voter dies for
// good. The leader removes it from the ring and from Raft after
// -ring.heartbeat-timeout, the non-voter is promoted, writes go on, and
// every line is written to 3 ingesters again.
func TestClusterDeadIngesterRemoved(t *testing.T) {
	c, _, l, prof := startLoaded(t, 4, 3*time.Second, "crash")

	_, victim := nonLeader(t, c, true)
	survivors := without(c.Running(), victim)
	begin := time.Now()
	victim.Kill()
	l.SetTargets(survivors)
	ackedAtKill := l.Acked()
	waitGone(c, survivors, victim, 60*time.Second)
	t.Logf("dead ingester %s removed %s after the kill", victim.ID, time.Since(begin).Round(time.Millisecond))
	if l.Acked() <= ackedAtKill {
		t.Errorf("no push acknowledged between the kill and the removal")
	}
	waitClusters(c, survivors, "three ACTIVE ingesters with RF 3 and three voters", func(n *lodetest.Node, cs lodetest.ClusterStatus) error {
		if v := cs.Voters(); v != 3 || len(cs.Members) != 3 {
			return fmt.Errorf("%d members, %d voters, want 3 and 3: %+v", len(cs.Members), v, cs.Members)
		}
		return checkRing(n, 3, 3)
	})

	// Every line acknowledged from now on lands on 3 ingesters.
	l.Stop()
	time.Sleep(time.Second) // replicas still writing after the quorum answered
	appended := sumMetric(t, survivors, "lode_ingester_entries_appended_total")
	acked := l.Acked()
	l.Start()
	l.WaitAcked(c, 100, 30*time.Second, "pushes acknowledged after the removal")
	sleepPhase(t, "load after the removal", prof.after)
	l.Stop()
	time.Sleep(time.Second)
	copies := (sumMetric(t, survivors, "lode_ingester_entries_appended_total") - appended) / float64(l.Acked()-acked)
	t.Logf("ingester appends per acknowledged line after the removal: %.3f", copies)
	if copies < 2.95 {
		t.Errorf("lines acknowledged after the removal were written %.3f times on average, want 3 (RF 3)", copies)
	}
	l.Report()
	l.Verify(survivors...)
}

// TestClusterRemovedNodeRejoins: a voter is killed and stays down until
// the leader has removed it from ring and Raft (-ring.heartbeat-timeout=3s);
// started again on its data directory it joins again as a voter, becomes
// an ACTIVE ring member and takes writes, and nothing acknowledged is lost.
func TestClusterRemovedNodeRejoins(t *testing.T) {
	c, _, l, prof := startLoaded(t, 3, 3*time.Second, "crash")

	_, victim := nonLeader(t, c, true)
	survivors := without(c.Running(), victim)
	begin := time.Now()
	victim.Kill()
	l.SetTargets(survivors)
	waitGone(c, survivors, victim, 60*time.Second)
	t.Logf("%s removed %s after the kill", victim.ID, time.Since(begin).Round(time.Millisecond))
	l.WaitAcked(c, 100, 30*time.Second, "pushes acknowledged on two nodes")

	begin = time.Now()
	victim.Restart()
	c.WaitRingActive(30 * time.Second)
	waitClusters(c, c.Running(), victim.ID+" is a voter again", func(_ *lodetest.Node, cs lodetest.ClusterStatus) error {
		if m, ok := cs.Member(victim.ID); !ok || m.Suffrage != "voter" || cs.Voters() != 3 {
			return fmt.Errorf("%d voters, %s is %+v (listed %v)", cs.Voters(), victim.ID, m, ok)
		}
		return nil
	})
	t.Logf("%s back as a voter and ACTIVE %s after its restart", victim.ID, time.Since(begin).Round(time.Millisecond))
	l.SetTargets(c.Running())
	l.WaitAcked(c, 100, 30*time.Second, "pushes acknowledged after the rejoin")
	sleepPhase(t, "load after the rejoin", prof.after)
	l.Stop()
	l.Report()
	l.Verify(c.Running()...)
}

// TestClusterJoinAndLeave: a fourth node joins under load as a non-voter,
// takes tokens and receives writes, both its own and through the other
// distributors; then a voter leaves gracefully (SIGTERM): it flushes,
// leaves ring and Raft, the newcomer becomes a voter, and nothing is lost.
func TestClusterJoinAndLeave(t *testing.T) {
	c, _, l, prof := startLoaded(t, 3, 0, "join")

	begin := time.Now()
	joiner := c.AddNode()
	t.Logf("%s ready %s after its start", joiner.ID, time.Since(begin).Round(time.Millisecond))
	waitClusters(c, c.Running(), joiner.ID+" is a non-voter and an ACTIVE ring member owning tokens", func(n *lodetest.Node, cs lodetest.ClusterStatus) error {
		if m, ok := cs.Member(joiner.ID); !ok || m.Suffrage != "nonvoter" {
			return fmt.Errorf("%s is %+v (listed %v), want a nonvoter", joiner.ID, m, ok)
		}
		return checkRing(n, 4, 3)
	})
	// Writes reach the newcomer's ingester through the other distributors.
	c.WaitFor(30*time.Second, joiner.ID+" ingests lines pushed to the other nodes", func() error {
		mm, err := joiner.Metrics()
		if err != nil {
			return err
		}
		if v := mm["lode_ingester_entries_appended_total"]; v == 0 {
			return fmt.Errorf("%s appended no entry", joiner.ID)
		}
		return nil
	})
	l.SetTargets(c.Running())
	c.WaitFor(30*time.Second, "pushes to "+joiner.ID+" acknowledged", func() error {
		if n := l.AckedBy(joiner.ID); n == 0 {
			return errors.New("none yet")
		}
		return nil
	})
	sleepPhase(t, "load on four nodes", prof.after)

	_, leaver := nonLeader(t, c, true)
	l.SetTargets(without(c.Running(), leaver))
	begin = time.Now()
	leaver.Stop()
	t.Logf("%s left gracefully in %s", leaver.ID, time.Since(begin).Round(time.Millisecond))
	log := leaver.Log()
	if strings.Contains(log, "flush before leaving incomplete") || !strings.Contains(log, "left the cluster") {
		t.Errorf("%s did not flush and leave cleanly; log:\n%s", leaver.ID, log)
	}
	rest := c.Running()
	waitGone(c, rest, leaver, 30*time.Second)
	waitClusters(c, rest, joiner.ID+" promoted: three voters", func(_ *lodetest.Node, cs lodetest.ClusterStatus) error {
		if v := cs.Voters(); v != 3 {
			return fmt.Errorf("%d voters, want 3: %+v", v, cs.Members)
		}
		return nil
	})
	sleepPhase(t, "load after the leave", prof.after)
	l.Stop()
	l.Report()
	l.Verify(rest...)
}

// TestClusterRollingRestart: each node in turn is stopped gracefully
// (SIGTERM), restarted on its data directory and flags, and waited for,
// under load; nothing acknowledged is lost.
func TestClusterRollingRestart(t *testing.T) {
	c, _, l, prof := startLoaded(t, 3, 0, "restarts")

	for _, n := range c.Nodes() {
		l.SetTargets(without(c.Running(), n))
		leader, err := c.LeaderNow()
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		n.Stop()
		stopped := time.Since(begin)
		n.Restart()
		ready := time.Since(begin) - stopped
		c.WaitRingActive(30 * time.Second)
		t.Logf("%s (leader before: %s): graceful stop %s, restart until ready %s",
			n.ID, leader.ID, stopped.Round(time.Millisecond), ready.Round(time.Millisecond))
		l.SetTargets(c.Running())
		l.WaitAcked(c, 100, 30*time.Second, "pushes acknowledged after restarting "+n.ID)
		sleepPhase(t, "load between restarts", prof.after/2)
	}
	l.Stop()
	l.Report()
	l.Verify(c.Running()...)
}

// waitClusters waits up to 30 s until check accepts the cluster status of
// every one of nodes.
func waitClusters(c *lodetest.Cluster, nodes []*lodetest.Node, what string, check func(*lodetest.Node, lodetest.ClusterStatus) error) {
	c.WaitFor(30*time.Second, what, func() error {
		for _, n := range nodes {
			cs, err := n.Cluster()
			if err == nil {
				err = check(n, cs)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", n.ID, err)
			}
		}
		return nil
	})
}

// waitGone waits until gone is listed neither in the ring nor in the
// cluster of any of nodes.
func waitGone(c *lodetest.Cluster, nodes []*lodetest.Node, gone *lodetest.Node, timeout time.Duration) {
	c.WaitFor(timeout, gone.ID+" removed from ring and cluster", func() error {
		for _, n := range nodes {
			rs, err := n.Ring()
			if err != nil {
				return err
			}
			if _, ok := rs.Instance(gone.ID); ok {
				return fmt.Errorf("%s's ring still lists %s", n.ID, gone.ID)
			}
			cs, err := n.Cluster()
			if err != nil {
				return err
			}
			if _, ok := cs.Member(gone.ID); ok {
				return fmt.Errorf("%s's cluster still lists %s", n.ID, gone.ID)
			}
		}
		return nil
	})
}

// checkRing checks n's ring: instances ACTIVE, healthy members owning
// tokens, with replication factor rf.
func checkRing(n *lodetest.Node, instances, rf int) error {
	rs, err := n.Ring()
	if err != nil {
		return err
	}
	if rs.ReplicationFactor != rf || len(rs.Instances) != instances {
		return fmt.Errorf("ring has %d instances, RF %d; want %d and %d: %+v",
			len(rs.Instances), rs.ReplicationFactor, instances, rf, rs.Instances)
	}
	for _, in := range rs.Instances {
		if in.State != "ACTIVE" || !in.Healthy || in.Tokens == 0 || in.Ownership <= 0 {
			return fmt.Errorf("ring instance %+v", in)
		}
	}
	return nil
}

// durationStats summarises ds as min, median and max.
func durationStats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("min %s, median %s, max %s", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]))
}

// mapErrors returns the non-nil errors, each prefixed with its key.
func mapErrors(m map[string]error) []error {
	var out []error
	for k, err := range m {
		if err != nil {
			out = append(out, fmt.Errorf("%s: %w", k, err))
		}
	}
	return out
}

package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/lode-logs/lode/backend/ring"
)

// run is the membership loop: it joins the cluster, keeps this node's ring
// entry as wanted, sends heartbeats and, on the leader, commits them and
// removes members that stopped sending them.
func (n *Node) run() {
	defer close(n.loopDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	joined := false
	var lastBeat time.Time
	for {
		if !joined {
			joined = n.tryJoin(ctx)
		}
		converged := n.reconcile(ctx)
		if time.Since(lastBeat) >= n.cfg.RingHeartbeatPeriod {
			lastBeat = time.Now()
			if !n.heartbeat(ctx) {
				joined = false
			}
			if n.raft.State() == raft.Leader {
				n.leaderDuties(ctx)
			} else {
				n.leaderSince = time.Time{}
			}
		}
		wait := n.cfg.RingHeartbeatPeriod
		if !joined || !converged {
			wait = min(wait, 100*time.Millisecond)
		}
		select {
		case <-n.quit:
			return
		case <-n.kick:
		case <-time.After(wait):
		}
	}
}

// SetState makes this node a ring member in state st (registering it
// with its tokens if it is not one yet) and waits until the local replica
// shows it, or ctx ends. The membership loop keeps it so afterwards (it
// registers again after an automatic removal).
func (n *Node) SetState(ctx context.Context, st ring.State) error {
	n.want.Store(uint32(st))
	select {
	case n.kick <- struct{}{}:
	default:
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if in, ok := n.Ring().Instance(n.id); ok && in.State == st {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("set ring state %s: %w", st, ctx.Err())
		case <-n.quit:
			return ErrClosed
		case <-t.C:
		}
	}
}

// reconcile registers this node or updates its state to the wanted one;
// it reports whether the replica shows what is wanted.
func (n *Node) reconcile(ctx context.Context) bool {
	want := ring.State(n.want.Load())
	if want == 0 {
		return true
	}
	r := n.Ring()
	in, ok := r.Instance(n.id)
	same := ok && in.Addr == n.self.GRPCAddr && in.HTTPAddr == n.self.HTTPAddr && in.RaftAddr == n.Addr() &&
		in.Ingester == n.self.Ingester
	if same && in.State == want {
		return true
	}
	var err error
	if same {
		err = n.propose(ctx, cmdSetState, encodeSetState(n.id, want))
	} else {
		reg := ring.Instance{
			ID: n.id, Addr: n.self.GRPCAddr, HTTPAddr: n.self.HTTPAddr, RaftAddr: n.Addr(),
			Ingester: n.self.Ingester, State: want, Heartbeat: time.Now().UnixMilli(),
		}
		if n.self.Ingester {
			taken := tokensOfOthers(slices.Values(r.Instances()), n.id)
			reg.Tokens = ring.GenerateTokens(n.id, n.cfg.RingTokens, func(t uint32) bool { return taken[t] })
		}
		err = n.propose(ctx, cmdRegister, encodeRegister(&reg))
	}
	if err != nil {
		n.log.Debug("ring registration pending", "state", want, "err", err)
		return false
	}
	return false // converged once the next look at the replica shows it
}

// heartbeat reports this node to the leader. It returns false when the
// leader does not know this node (it was removed: join again).
func (n *Node) heartbeat(ctx context.Context) bool {
	hb := heartbeat{id: n.id, time: time.Now().UnixMilli(), applied: n.fsm.lastApplied()}
	if n.raft.State() == raft.Leader {
		n.recordHeartbeats([]heartbeat{hb})
		return true
	}
	if n.transport == nil || n.want.Load() == 0 {
		return true
	}
	addr, err := n.leaderGRPC()
	if err != nil {
		// No leader for a while: this node may have been removed before it
		// learned of a leader, so nobody will contact it. Ask to join again.
		if n.noLeader.IsZero() {
			n.noLeader = time.Now()
		}
		return time.Since(n.noLeader) < 3*n.cfg.RingHeartbeatPeriod+n.cfg.ElectionTimeout
	}
	n.noLeader = time.Time{}
	cctx, cancel := context.WithTimeout(ctx, n.cfg.RingHeartbeatPeriod)
	defer cancel()
	resp, err := n.transport.ClusterCall(cctx, addr, OpHeartbeat, encodeHeartbeats([]heartbeat{hb}))
	if err != nil {
		n.log.Debug("heartbeat failed", "leader", addr, "err", err)
		return true
	}
	return len(resp) == 1 && resp[0] == 1
}

// leaderDuties commits the heartbeats received since the last round,
// removes members silent for longer than the heartbeat timeout (counted
// from when this node became leader at the earliest, so that a restarted
// cluster does not remove members that are still starting), and promotes
// non-voters while there are fewer voters than configured.
func (n *Node) leaderDuties(ctx context.Context) {
	now := time.Now()
	if n.leaderSince.IsZero() {
		n.leaderSince = now
	}
	n.hbMu.Lock()
	hbs := make([]heartbeat, 0, len(n.pending))
	for _, hb := range n.pending {
		hbs = append(hbs, hb)
	}
	clear(n.pending)
	n.hbMu.Unlock()
	if len(hbs) > 0 {
		slices.SortFunc(hbs, func(a, b heartbeat) int { return strings.Compare(a.id, b.id) })
		if err := n.propose(ctx, cmdHeartbeats, encodeHeartbeats(hbs)); err != nil {
			n.log.Warn("commit heartbeats", "err", err)
		}
	}
	if now.Sub(n.leaderSince) < n.cfg.RingHeartbeatTimeout {
		return
	}
	for _, id := range n.silentMembers(now) {
		n.log.Warn("removing a member that missed its heartbeats", "id", id, "timeout", n.cfg.RingHeartbeatTimeout)
		if err := n.removeMember(ctx, id); err != nil {
			n.log.Warn("remove silent member", "id", id, "err", err)
		} else {
			n.metrics.autoRemoved.Inc()
		}
	}
	n.promoteVoters()
}

// silentMembers lists ring members and Raft servers other than the
// leader not heard from within the heartbeat timeout.
func (n *Node) silentMembers(now time.Time) []string {
	since := n.leaderSince.UnixMilli()
	limit := now.UnixMilli() - n.cfg.RingHeartbeatTimeout.Milliseconds()
	last := map[string]int64{}
	for _, in := range n.Ring().Instances() {
		last[in.ID] = in.Heartbeat
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if _, ok := last[string(s.ID)]; !ok {
				last[string(s.ID)] = 0
			}
		}
	}
	n.hbMu.Lock()
	for id, t := range n.seen {
		if _, ok := last[id]; ok {
			last[id] = max(last[id], t)
		}
	}
	n.hbMu.Unlock()
	var out []string
	for id, t := range last {
		if id != n.id && max(t, since) < limit {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// promoteVoters makes healthy non-voters voters while the configuration
// has fewer voters than cfg.Voters.
func (n *Node) promoteVoters() {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	servers := f.Configuration().Servers
	voters := 0
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	r := n.Ring()
	now := time.Now()
	for _, s := range servers {
		if voters >= n.cfg.Voters {
			return
		}
		in, ok := r.Instance(string(s.ID))
		if s.Suffrage != raft.Nonvoter || !ok || !r.Healthy(&in, now) {
			continue
		}
		if err := n.raft.AddVoter(s.ID, s.Address, 0, n.cfg.ApplyTimeout).Error(); err != nil {
			n.log.Warn("promote non-voter", "id", s.ID, "err", err)
			return
		}
		n.log.Info("non-voter promoted to voter", "id", s.ID)
		voters++
	}
}

// Leave removes this node from the cluster before it stops: it stops
// keeping its ring entry, hands leadership over if it leads, and has the
// leader remove it from the ring and from Raft. A node alone in its
// cluster stays (there is nobody to hand the state to).
func (n *Node) Leave(ctx context.Context) error {
	n.want.Store(0)
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("leave: %w", translateRaftErr(err))
	}
	others := 0
	for _, s := range f.Configuration().Servers {
		if s.ID != raft.ServerID(n.id) {
			others++
		}
	}
	if others == 0 || n.transport == nil {
		return nil
	}
	if n.raft.State() == raft.Leader {
		if err := n.transferLeadership(ctx); err != nil {
			// No follower could take over in time: the leader removes
			// itself, and raft has it step down once that is committed.
			n.log.Warn("leadership transfer failed; removing this node as leader", "err", err)
			if err := n.propose(ctx, cmdRemove, encodeIDs([]string{n.id})); err != nil {
				return fmt.Errorf("leave: remove from the ring: %w", err)
			}
			if err := n.raft.RemoveServer(raft.ServerID(n.id), 0, n.cfg.ApplyTimeout).Error(); err != nil {
				return fmt.Errorf("leave: remove from raft: %w", translateRaftErr(err))
			}
			return nil
		}
		n.log.Info("leadership transferred before leaving")
	}
	body := []byte(n.id)
	backoff := 20 * time.Millisecond
	for {
		addr, err := n.leaderGRPC()
		if err == nil && n.raft.State() != raft.Leader {
			_, err = n.transport.ClusterCall(ctx, addr, OpLeave, body)
			if err == nil {
				n.log.Info("left the cluster")
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("leave: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// transferLeadership hands leadership to the most up-to-date follower,
// trying a few times.
func (n *Node) transferLeadership(ctx context.Context) error {
	var err error
	for range 3 {
		if err = n.raft.LeadershipTransfer().Error(); err == nil || n.raft.State() != raft.Leader {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

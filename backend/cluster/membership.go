package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/lode-logs/lode/backend/ring"
)

// Operations served by Handle (the ops of the internal gRPC cluster call).
const (
	OpApply     = "apply"     // body: a command; leader only
	OpJoin      = "join"      // body: joinRequest; forwarded to the leader
	OpLeave     = "leave"     // body: a member id; forwarded to the leader
	OpHeartbeat = "heartbeat" // body: heartbeats of one member; leader only
)

// Transport carries cluster calls to other members' Handle (the internal
// gRPC pool implements it).
type Transport interface {
	ClusterCall(ctx context.Context, addr, op string, body []byte) ([]byte, error)
}

// Self describes this node to the ring.
type Self struct {
	GRPCAddr string // advertised gRPC host:port
	HTTPAddr string // advertised HTTP host:port
	Ingester bool   // runs the ingester role: takes tokens
}

// Ring returns the ring as this node's replica knows it.
func (n *Node) Ring() *ring.Ring { return n.fsm.ring.Load() }

// Handle serves a cluster call from another member.
func (n *Node) Handle(ctx context.Context, op string, body []byte) ([]byte, error) {
	switch op {
	case OpApply:
		if _, err := decodeCommand(body); err != nil {
			return nil, err
		}
		if n.raft.State() != raft.Leader {
			return nil, n.notLeader()
		}
		return nil, n.batch.await(n.raft.Apply(body, n.cfg.ApplyTimeout))
	case OpJoin:
		id, addr, err := decodeJoin(body)
		if err != nil {
			return nil, err
		}
		if n.raft.State() != raft.Leader {
			return n.forward(ctx, op, body)
		}
		return nil, n.addServer(id, addr)
	case OpLeave:
		if n.raft.State() != raft.Leader {
			return n.forward(ctx, op, body)
		}
		return nil, n.removeMember(ctx, string(body))
	case OpHeartbeat:
		hbs, err := decodeHeartbeats(body)
		if err != nil {
			return nil, err
		}
		if n.raft.State() != raft.Leader {
			return nil, n.notLeader()
		}
		known := n.recordHeartbeats(hbs)
		return []byte{boolByte(known)}, nil
	default:
		return nil, fmt.Errorf("%w: unknown cluster operation %q", ErrRejected, op)
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (n *Node) notLeader() error {
	id, addr := n.Leader()
	return fmt.Errorf("%w (leader %q at %q)", ErrNotLeader, id, addr)
}

// leaderGRPC returns the gRPC address of the current leader.
func (n *Node) leaderGRPC() (string, error) {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return "", fmt.Errorf("%w: no leader known", ErrNotLeader)
	}
	in, ok := n.Ring().Instance(string(id))
	if !ok || in.Addr == "" {
		return "", fmt.Errorf("%w: leader %q has no known address yet", ErrNotLeader, id)
	}
	return in.Addr, nil
}

// forward passes a call on to the leader (one hop).
func (n *Node) forward(ctx context.Context, op string, body []byte) ([]byte, error) {
	if n.transport == nil {
		return nil, n.notLeader()
	}
	addr, err := n.leaderGRPC()
	if err != nil {
		return nil, err
	}
	return n.transport.ClusterCall(ctx, addr, op, body)
}

// sendCommand commits cmd through Raft: on the leader directly, else
// through the leader's Handle. Failures that another attempt may cure (no
// leader, leadership lost, leader unreachable) are retried with backoff
// until cfg.ApplyTimeout; cmd's request id makes a retry apply once.
func (n *Node) sendCommand(ctx context.Context, cmd []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout)
	defer cancel()
	backoff := 10 * time.Millisecond
	for {
		err := n.sendOnce(ctx, cmd)
		if err == nil || errors.Is(err, ErrRejected) || errors.Is(err, ErrClosed) || errors.Is(err, ErrFSMFailed) ||
			(n.permanent != nil && n.permanent(err)) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("commit through raft: %w (last error: %w)", ctx.Err(), err)
		case <-n.quit:
			return fmt.Errorf("commit through raft: %w (last error: %w)", ErrClosed, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

func (n *Node) sendOnce(ctx context.Context, cmd []byte) error {
	if n.raft.State() == raft.Leader {
		return n.batch.await(n.raft.Apply(cmd, n.cfg.ApplyTimeout))
	}
	if n.transport == nil {
		return n.notLeader()
	}
	addr, err := n.leaderGRPC()
	if err != nil {
		return err
	}
	_, err = n.transport.ClusterCall(ctx, addr, OpApply, cmd)
	return err
}

// propose builds a command of type typ and commits it.
func (n *Node) propose(ctx context.Context, typ byte, body []byte) error {
	cmd, err := encodeCommand(typ, time.Now().UnixMilli(), body)
	if err != nil {
		return err
	}
	return n.sendCommand(ctx, cmd)
}

// addServer adds a member to the Raft configuration: as a voter while
// there are fewer than cfg.Voters, else as a non-voter. A member already
// present at the same address is left as it is.
func (n *Node) addServer(id, addr string) error {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	voters := 0
	r := n.Ring()
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(id) && s.Address == raft.ServerAddress(addr) {
			return nil
		}
		if s.ID == raft.ServerID(id) {
			if in, ok := r.Instance(id); ok && r.Healthy(&in, time.Now()) || id == n.id {
				return fmt.Errorf("%w: node id %q is taken by a live member at %s; give each node its own -cluster.node-id",
					ErrRejected, id, s.Address)
			}
		}
		if s.Suffrage == raft.Voter && s.ID != raft.ServerID(id) {
			voters++
		}
	}
	var fut raft.IndexFuture
	if voters < n.cfg.Voters {
		fut = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.cfg.ApplyTimeout)
	} else {
		fut = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.cfg.ApplyTimeout)
	}
	if err := fut.Error(); err != nil {
		return fmt.Errorf("add %s at %s to raft: %w", id, addr, translateRaftErr(err))
	}
	// A member just added counts as heard from: it may not have registered
	// in the ring yet.
	n.hbMu.Lock()
	n.seen[id] = time.Now().UnixMilli()
	n.hbMu.Unlock()
	n.log.Info("member added", "id", id, "raft", addr, "voter", voters < n.cfg.Voters)
	return nil
}

func translateRaftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// removeMember removes a member from the ring and the Raft configuration
// (leader only; not itself).
func (n *Node) removeMember(ctx context.Context, id string) error {
	if id == n.id {
		return fmt.Errorf("%w: the leader cannot remove itself; transfer leadership first", ErrRejected)
	}
	if err := n.propose(ctx, cmdRemove, encodeIDs([]string{id})); err != nil {
		return fmt.Errorf("remove %s from the ring: %w", id, err)
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("remove %s from raft: %w", id, translateRaftErr(err))
	}
	n.hbMu.Lock()
	delete(n.seen, id)
	n.hbMu.Unlock()
	n.log.Info("member removed", "id", id)
	return nil
}

// recordHeartbeats keeps heartbeats for the leader's next heartbeats
// command; it reports whether all senders are ring members.
func (n *Node) recordHeartbeats(hbs []heartbeat) bool {
	r := n.Ring()
	now := time.Now().UnixMilli()
	known := true
	n.hbMu.Lock()
	defer n.hbMu.Unlock()
	for _, hb := range hbs {
		hb.time = now // the leader's clock decides
		n.pending[hb.id] = hb
		n.seen[hb.id] = now
		if _, ok := r.Instance(hb.id); !ok {
			known = false
		}
	}
	return known
}

// encodeJoin: id str, raft address str.
func encodeJoin(id, addr string) []byte { return appendBytes(appendBytes(nil, id), addr) }

func decodeJoin(b []byte) (id, addr string, err error) {
	d := decoder{b: b}
	id, addr = d.str(), d.str()
	if err := d.finish(); err != nil {
		return "", "", err
	}
	if !nodeIDPattern.MatchString(id) {
		return "", "", fmt.Errorf("%w: join: bad member id %q", ErrRejected, id)
	}
	if err := validateAddress(addr, true); err != nil {
		return "", "", fmt.Errorf("%w: join: %w", ErrRejected, err)
	}
	return id, addr, nil
}

// joinTargets are the gRPC addresses to ask for membership: -cluster.join
// and the other members this replica knows.
func (n *Node) joinTargets() []string {
	out := slices.Clone([]string(n.cfg.Join))
	for _, in := range n.Ring().Instances() {
		if in.ID != n.id && in.Addr != "" {
			out = append(out, in.Addr)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(a string) bool { return a == n.self.GRPCAddr })
}

// tryJoin asks the join targets to add this node to Raft; it reports
// whether one accepted (or there is nobody to ask).
func (n *Node) tryJoin(ctx context.Context) bool {
	targets := n.joinTargets()
	if len(targets) == 0 || n.transport == nil {
		return true
	}
	body := encodeJoin(n.id, n.Addr())
	var errs []error
	for _, a := range targets {
		cctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout)
		_, err := n.transport.ClusterCall(cctx, a, OpJoin, body)
		cancel()
		if err == nil {
			n.joinFailures = 0
			n.log.Info("joined the cluster", "via", a)
			return true
		}
		errs = append(errs, fmt.Errorf("%s: %w", a, err))
	}
	if n.joinFailures++; n.joinFailures%50 == 1 {
		n.log.Warn("join failed; retrying", "err", errors.Join(errs...))
	}
	return false
}

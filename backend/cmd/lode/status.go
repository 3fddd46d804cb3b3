package main

import (
	"time"

	"github.com/lode-logs/lode/backend/api"
	"github.com/lode-logs/lode/backend/cluster"
)

// statusSource feeds the /ring and /cluster pages from the node's replica.
type statusSource struct {
	node *cluster.Node
	rf   int
}

func (s *statusSource) ClusterStatus() api.ClusterStatus {
	info := s.node.RaftInfo()
	leaderID, leaderAddr := s.node.Leader()
	r := s.node.Ring()
	now := time.Now()
	st := api.ClusterStatus{
		NodeID: s.node.ID(), Leader: leaderID, LeaderAddr: leaderAddr,
		Term: info.Term, CommitIndex: info.CommitIndex, AppliedIndex: info.AppliedIndex,
	}
	listed := map[string]bool{}
	for _, srv := range info.Servers {
		m := api.MemberStatus{ID: srv.ID, RaftAddr: srv.Addr, Suffrage: "nonvoter", Leader: srv.ID == leaderID}
		if srv.Voter {
			m.Suffrage = "voter"
		}
		if in, ok := r.Instance(srv.ID); ok {
			m.GRPCAddr, m.HTTPAddr, m.State = in.Addr, in.HTTPAddr, in.State.String()
			m.Healthy = r.Healthy(&in, now)
			m.Heartbeat = time.UnixMilli(in.Heartbeat)
			m.AppliedIndex = in.AppliedIndex
			if info.CommitIndex > in.AppliedIndex {
				m.Lag = info.CommitIndex - in.AppliedIndex
			}
		}
		if srv.ID == s.node.ID() {
			m.AppliedIndex, m.Healthy = info.AppliedIndex, true
			m.Lag = info.CommitIndex - min(info.CommitIndex, info.AppliedIndex)
		}
		listed[srv.ID] = true
		st.Members = append(st.Members, m)
	}
	for _, in := range r.Instances() {
		if listed[in.ID] {
			continue
		}
		st.Members = append(st.Members, api.MemberStatus{
			ID: in.ID, RaftAddr: in.RaftAddr, GRPCAddr: in.Addr, HTTPAddr: in.HTTPAddr, State: in.State.String(),
			Healthy: r.Healthy(&in, now), Heartbeat: time.UnixMilli(in.Heartbeat), AppliedIndex: in.AppliedIndex,
		})
	}
	return st
}

func (s *statusSource) RingStatus() api.RingStatus {
	r := s.node.Ring()
	own := r.Ownership()
	now := time.Now()
	st := api.RingStatus{ReplicationFactor: s.rf}
	for _, in := range r.Instances() {
		if !in.Ingester {
			continue
		}
		st.Instances = append(st.Instances, api.RingInstanceStatus{
			ID: in.ID, Addr: in.Addr, State: in.State.String(), Tokens: len(in.Tokens), Ownership: own[in.ID],
			Healthy: r.Healthy(&in, now), Heartbeat: time.UnixMilli(in.Heartbeat),
		})
	}
	return st
}

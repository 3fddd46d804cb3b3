package cluster

import (
	"github.com/hashicorp/raft"
)

// Server is a member of the Raft configuration.
type Server struct {
	ID      string
	Addr    string // Raft address
	Voter   bool
	Staging bool // being added; not voting yet
}

// RaftInfo is what this node knows of Raft.
type RaftInfo struct {
	State        string // Leader, Follower, Candidate, Shutdown
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64 // of the FSM
	LastIndex    uint64 // last log index
	Servers      []Server
}

// RaftInfo returns the node's view of Raft. Servers is empty when the
// configuration cannot be read (the node is shutting down).
func (n *Node) RaftInfo() RaftInfo {
	info := RaftInfo{
		State:        n.raft.State().String(),
		Term:         n.raft.CurrentTerm(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.fsm.lastApplied(),
		LastIndex:    n.raft.LastIndex(),
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			info.Servers = append(info.Servers, Server{
				ID: string(s.ID), Addr: string(s.Address),
				Voter: s.Suffrage == raft.Voter, Staging: s.Suffrage == raft.Staging,
			})
		}
	}
	return info
}

// Alone reports whether this node is the only member of its Raft
// configuration.
func (n *Node) Alone() bool {
	info := n.RaftInfo()
	return len(info.Servers) <= 1
}

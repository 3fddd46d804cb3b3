package ring

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// State is the life-cycle state of a ring member. The values are stored in
// the FSM: never renumber them.
type State uint8

const (
	// Joining: registered, not yet taking writes or reads.
	Joining State = 1
	// Active: takes writes and reads.
	Active State = 2
	// Leaving: flushing before exit; takes no new writes but is still read.
	Leaving State = 3
)

// String returns the state's name: "JOINING", "ACTIVE" or "LEAVING"
// ("State(n)" for a value outside them).
func (s State) String() string {
	switch s {
	case Joining:
		return "JOINING"
	case Active:
		return "ACTIVE"
	case Leaving:
		return "LEAVING"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// valid reports whether s is one of the defined states.
func (s State) valid() bool { return s >= Joining && s <= Leaving }

// ParseState parses a state name as String writes it (case-insensitively).
func ParseState(s string) (State, error) {
	for _, st := range []State{Joining, Active, Leaving} {
		if strings.EqualFold(s, st.String()) {
			return st, nil
		}
	}
	return 0, fmt.Errorf("parse state %q: %w", s, ErrUnknownState)
}

// Instance is one member of the ring as the FSM stores it.
type Instance struct {
	ID           string   // Raft server id
	Addr         string   // gRPC host:port
	HTTPAddr     string   // HTTP host:port
	RaftAddr     string   // Raft host:port
	Ingester     bool     // runs the ingester role (only then it has tokens)
	Tokens       []uint32 // sorted ascending, unique across the ring
	State        State
	Registered   int64  // Unix ms (leader clock)
	Heartbeat    int64  // Unix ms of the last heartbeat (leader clock)
	AppliedIndex uint64 // the member's FSM applied index at its last heartbeat
}

// Clone returns a copy of in that owns its Tokens.
func (in Instance) Clone() Instance {
	in.Tokens = slices.Clone(in.Tokens)
	return in
}

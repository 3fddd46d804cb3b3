package cluster

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Badger key namespaces (first key byte) of the FSM database. See FORMAT.md.
const (
	nsIndex   byte = 'i' // owned by package index
	nsMeta    byte = 'm' // FSM bookkeeping
	nsRequest byte = 'r' // 'r' | request id → time applied (8 BE)
	nsExpiry  byte = 'q' // 'q' | time (8 BE) | request id → empty
	nsRing    byte = 'g' // 'g' | member id → ring.Instance
	nsDeleted byte = 'x' // 'x' | object key → time dropped (8 BE) [| time deleted (8 BE)]
	nsForget  byte = 'y' // 'y' | time deleted (8 BE) | object key → empty
)

// keyApplied holds fsmState.
var keyApplied = []byte{nsMeta, 'a'}

// requestIDTTL is how long an applied request id is remembered, in FSM
// time. Fixed: replicas must agree on it to take the same decisions.
const requestIDTTL = 15 * time.Minute

const sign64 = uint64(1) << 63

// fsmState is what the FSM records with every apply, atomically with the
// apply's last write.
type fsmState struct {
	applied uint64 // index of the last Raft log entry applied
	now     int64  // FSM time: the largest command time seen, Unix ms
}

func (s fsmState) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), s.applied)
	return binary.BigEndian.AppendUint64(b, uint64(s.now)^sign64)
}

func decodeFSMState(b []byte) (fsmState, error) {
	if len(b) != 16 {
		return fsmState{}, fmt.Errorf("fsm state of %d bytes, want 16", len(b))
	}
	return fsmState{
		applied: binary.BigEndian.Uint64(b),
		now:     int64(binary.BigEndian.Uint64(b[8:]) ^ sign64),
	}, nil
}

func requestKey(id RequestID) []byte {
	return append([]byte{nsRequest}, id[:]...)
}

func expiryKey(unixMs int64, id RequestID) []byte {
	k := binary.BigEndian.AppendUint64([]byte{nsExpiry}, uint64(unixMs)^sign64)
	return append(k, id[:]...)
}

func encodeTime(unixMs int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(unixMs)^sign64)
}

func decodeTime(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("time of %d bytes, want 8", len(b))
	}
	return int64(binary.BigEndian.Uint64(b) ^ sign64), nil
}

package cluster

import (
	"encoding/binary"
	"fmt"

	"github.com/lode-logs/lode/backend/ring"
)

// heartbeat is one member's entry of a heartbeats command.
type heartbeat struct {
	id      string
	time    int64  // Unix ms, leader clock
	applied uint64 // the member's FSM applied index
}

// encodeCommand builds a command of type typ with a new request id.
func encodeCommand(typ byte, unixMs int64, body []byte) ([]byte, error) {
	id, err := newRequestID()
	if err != nil {
		return nil, err
	}
	return append(appendHeader(make([]byte, 0, headerLen+len(body)), typ, id, unixMs), body...), nil
}

func encodeRegister(in *ring.Instance) []byte { return ring.AppendInstance(nil, in) }

// encodeHeartbeats: count (uvarint) × (id str, time varint, applied uvarint).
func encodeHeartbeats(hbs []heartbeat) []byte {
	dst := binary.AppendUvarint(nil, uint64(len(hbs)))
	for _, hb := range hbs {
		dst = appendBytes(dst, hb.id)
		dst = binary.AppendVarint(dst, hb.time)
		dst = binary.AppendUvarint(dst, hb.applied)
	}
	return dst
}

func decodeHeartbeats(b []byte) ([]heartbeat, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(b)/3) {
		d.fail("heartbeat count")
	}
	var out []heartbeat
	for i := uint64(0); i < n && d.err == nil; i++ {
		out = append(out, heartbeat{id: d.str(), time: d.varint(), applied: d.uvarint()})
	}
	return out, d.finish()
}

// encodeSetState: id str, state (1 byte).
func encodeSetState(id string, st ring.State) []byte {
	return append(appendBytes(nil, id), byte(st))
}

func decodeSetState(b []byte) (string, ring.State, error) {
	d := decoder{b: b}
	id := d.str()
	if d.err == nil && len(d.b) < 1 {
		d.fail("state")
	}
	var st ring.State
	if d.err == nil {
		st = ring.State(d.b[0])
		d.b = d.b[1:]
		if st < ring.Joining || st > ring.Leaving {
			d.err = fmt.Errorf("%w: unknown member state %d", ErrRejected, st)
		}
	}
	return id, st, d.finish()
}

// encodeIDs: count (uvarint) × id str.
func encodeIDs(ids []string) []byte {
	dst := binary.AppendUvarint(nil, uint64(len(ids)))
	for _, id := range ids {
		dst = appendBytes(dst, id)
	}
	return dst
}

func decodeIDs(b []byte) ([]string, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(b)) {
		d.fail("id count")
	}
	var out []string
	for i := uint64(0); i < n && d.err == nil; i++ {
		out = append(out, d.str())
	}
	return out, d.finish()
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

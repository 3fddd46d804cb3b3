package cluster

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

// Command types: the first byte of every Raft command (FORMAT.md). A type
// is never reused; a changed encoding gets a new type.
const (
	cmdAddChunks  byte = 0x01
	cmdRegister   byte = 0x02
	cmdHeartbeats byte = 0x03
	cmdSetState   byte = 0x04
	cmdRemove     byte = 0x05
	cmdDropPeriod byte = 0x06
	cmdForget     byte = 0x07
)

// RequestID identifies a command so that proposing it again (after an
// ambiguous failure) applies it once.
type RequestID [16]byte

func newRequestID() (RequestID, error) {
	var id RequestID
	if _, err := rand.Read(id[:]); err != nil {
		return id, fmt.Errorf("new request id: %w", err)
	}
	return id, nil
}

// headerLen is the size of type, request id and time.
const headerLen = 1 + 16 + 8

// command is a decoded Raft command.
type command struct {
	typ  byte
	id   RequestID
	time int64 // Unix ms at the proposer
	body []byte
}

// appendHeader appends the command header: type | id | time (8, BE).
func appendHeader(dst []byte, typ byte, id RequestID, unixMs int64) []byte {
	dst = append(dst, typ)
	dst = append(dst, id[:]...)
	return binary.BigEndian.AppendUint64(dst, uint64(unixMs))
}

func decodeCommand(b []byte) (command, error) {
	if len(b) < headerLen {
		return command{}, fmt.Errorf("%w: command of %d bytes", ErrRejected, len(b))
	}
	c := command{typ: b[0], time: int64(binary.BigEndian.Uint64(b[17:])), body: b[headerLen:]}
	copy(c.id[:], b[1:17])
	return c, nil
}

// appendChunkEntry appends one entry of an addChunks body:
// tenant, key (uvarint length + bytes), fingerprint (8, BE), from (varint),
// through-from (uvarint), size, entries (uvarint), labels (count, then
// length-prefixed name and value per label).
func appendChunkEntry(dst []byte, e *index.ChunkEntry) []byte {
	r := &e.Ref
	dst = appendBytes(dst, r.Tenant)
	dst = appendBytes(dst, r.Key)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Fingerprint))
	dst = binary.AppendVarint(dst, r.From)
	dst = binary.AppendUvarint(dst, uint64(r.Through-r.From))
	dst = binary.AppendUvarint(dst, uint64(r.Size))
	dst = binary.AppendUvarint(dst, uint64(r.Entries))
	dst = binary.AppendUvarint(dst, uint64(e.Labels.Len()))
	e.Labels.Range(func(l labels.Label) {
		dst = appendBytes(dst, l.Name)
		dst = appendBytes(dst, l.Value)
	})
	return dst
}

func appendBytes(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// encodeAddChunks builds an addChunks command from entries already encoded
// with appendChunkEntry (count of them in total).
func encodeAddChunks(id RequestID, unixMs int64, count int, parts [][]byte) []byte {
	n := headerLen + binary.MaxVarintLen64
	for _, p := range parts {
		n += len(p)
	}
	dst := make([]byte, 0, n)
	dst = appendHeader(dst, cmdAddChunks, id, unixMs)
	dst = binary.AppendUvarint(dst, uint64(count))
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

// minEntryLen is the smallest encoded entry: one byte per field but the
// 8-byte fingerprint.
const minEntryLen = 15

// decodeAddChunks decodes an addChunks body. Labels are copied out of b.
func decodeAddChunks(b []byte) ([]index.ChunkEntry, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(b)/minEntryLen) {
		d.fail("entry count")
	}
	var entries []index.ChunkEntry
	if d.err == nil {
		entries = make([]index.ChunkEntry, 0, n)
	}
	sb := labels.NewScratchBuilder(16)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var e index.ChunkEntry
		r := &e.Ref
		r.Tenant, r.Key = d.str(), d.str()
		r.Fingerprint = model.Fingerprint(d.uint64())
		r.From = d.varint()
		r.Through = r.From + int64(d.uvarint())
		r.Size, r.Entries = d.uint32(), d.uint32()
		nl := d.uvarint()
		if d.err == nil && nl > uint64(len(d.b)) {
			d.fail("label count")
		}
		sb.Reset()
		for j := uint64(0); j < nl && d.err == nil; j++ {
			sb.Add(d.str(), d.str())
		}
		e.Labels = sb.Labels()
		entries = append(entries, e)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return entries, nil
}

// decoder reads the fields of a command body; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: malformed command: %s", ErrRejected, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) varint() int64 {
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail("uint32 overflow")
	}
	return uint32(v)
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("uint64")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string length")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

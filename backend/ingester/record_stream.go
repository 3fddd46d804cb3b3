package ingester

import (
	"encoding/binary"
	"fmt"

	"github.com/lode-logs/lode/backend/model"
	"github.com/prometheus/prometheus/model/labels"
)

// appendStreamRecord encodes a stream record (FORMAT.md).
func appendStreamRecord(dst []byte, tenant string, fp model.Fingerprint, ls labels.Labels) []byte {
	dst = append(dst, recordVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(fp))
	dst = binary.AppendUvarint(dst, uint64(len(tenant)))
	dst = append(dst, tenant...)
	dst = binary.AppendUvarint(dst, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	return dst
}

// streamRecord is a decoded stream record.
type streamRecord struct {
	tenant string
	fp     model.Fingerprint
	labels labels.Labels
}

// readStreamRecord decodes a stream record.
func readStreamRecord(b []byte) (streamRecord, error) {
	var r streamRecord
	d := decoder{b: b}
	if v := d.byte1(); v != recordVersion && d.err == nil {
		return r, fmt.Errorf("stream record version %d: %w", v, ErrCorrupt)
	}
	r.fp = model.Fingerprint(d.u64())
	r.tenant = string(d.bytes(d.uvarint()))
	n := d.uvarint()
	if n > uint64(len(b)) {
		return r, fmt.Errorf("stream record: %d labels: %w", n, ErrCorrupt)
	}
	sb := labels.NewScratchBuilder(int(n))
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := d.bytes(d.uvarint())
		value := d.bytes(d.uvarint())
		sb.Add(string(name), string(value))
	}
	if d.err != nil || len(d.b) != 0 {
		return r, fmt.Errorf("stream record: %w", ErrCorrupt)
	}
	sb.Sort()
	r.labels = sb.Labels()
	return r, nil
}

// decoder reads record fields with a sticky error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.b = nil
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

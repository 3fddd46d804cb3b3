package index

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// appendLabels encodes ls as: count (uvarint), then per label name length
// (uvarint), name, value length (uvarint), value. Labels stay in their
// sorted order.
func appendLabels(dst []byte, ls labels.Labels) []byte {
	dst = binary.AppendUvarint(dst, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	return dst
}

// decodeLabels decodes what appendLabels wrote, using sb as scratch.
func decodeLabels(b []byte, sb *labels.ScratchBuilder) (labels.Labels, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return labels.EmptyLabels(), fmt.Errorf("labels count: %w", ErrCorrupt)
	}
	b = b[k:]
	sb.Reset()
	for range n {
		var name, value []byte
		var err error
		if name, b, err = readBytes(b); err != nil {
			return labels.EmptyLabels(), err
		}
		if value, b, err = readBytes(b); err != nil {
			return labels.EmptyLabels(), err
		}
		sb.Add(yoloString(name), yoloString(value)) // copied by sb.Labels
	}
	if len(b) != 0 {
		return labels.EmptyLabels(), fmt.Errorf("labels: %d trailing bytes: %w", len(b), ErrCorrupt)
	}
	return sb.Labels(), nil
}

func readBytes(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("label field: %w", ErrCorrupt)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// yoloString views b as a string without copying; the string must not
// outlive b's next modification.
func yoloString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

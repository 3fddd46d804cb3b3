//go:build !slicelabels && !dedupelabels

package rpc

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// addLabel adds a label to sb without copying name and value: with string
// labels (Prometheus' default), ScratchBuilder.Labels copies what was added
// into a new string, so views of a receive buffer are safe here and save
// two allocations per label.
func addLabel(sb *labels.ScratchBuilder, name, value []byte) {
	sb.Add(unsafe.String(unsafe.SliceData(name), len(name)), unsafe.String(unsafe.SliceData(value), len(value)))
}

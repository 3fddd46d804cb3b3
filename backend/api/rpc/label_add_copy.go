//go:build slicelabels || dedupelabels

package rpc

import "github.com/prometheus/prometheus/model/labels"

// addLabel adds a label to sb. These label implementations keep the added
// strings, so they are copied out of the receive buffer.
func addLabel(sb *labels.ScratchBuilder, name, value []byte) {
	sb.Add(string(name), string(value))
}

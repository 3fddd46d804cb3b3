package distributor

import (
	"flag"
	"fmt"
	"strings"

	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/push"
)

// Config is the distributor's configuration. Per-tenant validation and
// rate limits are the limits package's.
type Config struct {
	// MaxRecvMsgSize bounds a push body, compressed and decompressed, for
	// push.DecodeHTTP.
	MaxRecvMsgSize limits.ByteSize `yaml:"max_recv_msg_size"`
	// ReplicationFactor is how many ingesters receive each stream; a push
	// is acknowledged once a majority of them wrote it.
	ReplicationFactor int `yaml:"replication_factor"`
	// OTLPIndexLabels lists (comma-separated) the OpenTelemetry resource
	// attributes that label the streams of /otlp/v1/logs.
	OTLPIndexLabels string `yaml:"otlp_index_labels"`
}

// OTLPIndexLabelList returns OTLPIndexLabels as a list.
func (c *Config) OTLPIndexLabelList() []string {
	var out []string
	for _, a := range strings.Split(c.OTLPIndexLabels, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// RegisterFlags registers the distributor flags with their defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	c.MaxRecvMsgSize = 100 << 20
	f.Var(&c.MaxRecvMsgSize, "distributor.max-recv-msg-size",
		"Largest push request body accepted, before and after decompression (e.g. 100MiB).")
	f.IntVar(&c.ReplicationFactor, "distributor.replication-factor", 3,
		"Ingesters that receive each stream; a push is acknowledged once a majority of them made it durable. Capped at the number of ACTIVE ingesters.")
	f.StringVar(&c.OTLPIndexLabels, "distributor.otlp-index-labels", strings.Join(push.OTLPIndexLabels, ","),
		"OpenTelemetry resource attributes that label the streams of /otlp/v1/logs (comma-separated; dots become underscores); the other attributes become structured metadata.")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxRecvMsgSize <= 0 {
		return fmt.Errorf("distributor: max_recv_msg_size must be > 0, got %d", c.MaxRecvMsgSize)
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > 9 {
		return fmt.Errorf("distributor: replication_factor must be between 1 and 9, got %d", c.ReplicationFactor)
	}
	if len(c.OTLPIndexLabelList()) > 30 {
		return fmt.Errorf("distributor: otlp_index_labels names %d attributes, at most 30", len(c.OTLPIndexLabelList()))
	}
	return nil
}

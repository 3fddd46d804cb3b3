package distributor

import (
	"flag"
	"fmt"

	"github.com/lode-logs/lode/backend/limits"
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
}

// RegisterFlags registers the distributor flags with their defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	c.MaxRecvMsgSize = 100 << 20
	f.Var(&c.MaxRecvMsgSize, "distributor.max-recv-msg-size",
		"Largest push request body accepted, before and after decompression (e.g. 100MiB).")
	f.IntVar(&c.ReplicationFactor, "distributor.replication-factor", 3,
		"Ingesters that receive each stream; a push is acknowledged once a majority of them made it durable. Capped at the number of ACTIVE ingesters.")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxRecvMsgSize <= 0 {
		return fmt.Errorf("distributor: max_recv_msg_size must be > 0, got %d", c.MaxRecvMsgSize)
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > 9 {
		return fmt.Errorf("distributor: replication_factor must be between 1 and 9, got %d", c.ReplicationFactor)
	}
	return nil
}

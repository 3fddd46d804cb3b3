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
}

// RegisterFlags registers the distributor flags with their defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	c.MaxRecvMsgSize = 100 << 20
	f.Var(&c.MaxRecvMsgSize, "distributor.max-recv-msg-size",
		"Largest push request body accepted, before and after decompression (e.g. 100MiB).")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxRecvMsgSize <= 0 {
		return fmt.Errorf("distributor: max_recv_msg_size must be > 0, got %d", c.MaxRecvMsgSize)
	}
	return nil
}

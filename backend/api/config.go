package api

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// Config holds the listen addresses and request limits of the API.
type Config struct {
	HTTPListenAddress string        `yaml:"http_listen_address"`
	HTTPListenPort    int           `yaml:"http_listen_port"`
	GRPCListenAddress string        `yaml:"grpc_listen_address"`
	GRPCListenPort    int           `yaml:"grpc_listen_port"`
	QueryTimeout      time.Duration `yaml:"query_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
}

// RegisterFlags registers the server flags.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.StringVar(&c.HTTPListenAddress, "server.http-listen-address", "", "HTTP listen address (empty: all interfaces).")
	f.IntVar(&c.HTTPListenPort, "server.http-listen-port", 3100, "HTTP listen port.")
	f.StringVar(&c.GRPCListenAddress, "server.grpc-listen-address", "", "gRPC listen address (empty: all interfaces).")
	f.IntVar(&c.GRPCListenPort, "server.grpc-listen-port", 9095, "gRPC listen port.")
	f.DurationVar(&c.QueryTimeout, "server.query-timeout", time.Minute, "Longest time a query may run.")
	f.DurationVar(&c.ShutdownTimeout, "server.shutdown-timeout", 30*time.Second, "Time allowed for in-flight requests on shutdown.")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	var errs []error
	if c.HTTPListenPort < 0 || c.HTTPListenPort > 65535 {
		errs = append(errs, fmt.Errorf("server.http-listen-port must be between 0 and 65535, got %d", c.HTTPListenPort))
	}
	if c.GRPCListenPort < 0 || c.GRPCListenPort > 65535 {
		errs = append(errs, fmt.Errorf("server.grpc-listen-port must be between 0 and 65535, got %d", c.GRPCListenPort))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("server.query-timeout must be positive, got %v", c.QueryTimeout))
	}
	return errors.Join(errs...)
}

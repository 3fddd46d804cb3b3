package objstore

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/prometheus/client_golang/prometheus"
)

// Storage backends selectable with -storage.backend.
const (
	BackendFilesystem = "filesystem"
	BackendS3         = "s3"
)

// Config selects and configures the object store.
type Config struct {
	Backend    string           `yaml:"backend"`
	Filesystem FilesystemConfig `yaml:"filesystem"`
	S3         S3Config         `yaml:"s3"`
}

// FilesystemConfig configures the filesystem backend.
type FilesystemConfig struct {
	// Dir is the root directory; empty means <data dir>/chunks (Config.Dir).
	Dir string `yaml:"dir"`
}

// S3Config configures the S3 backend.
type S3Config struct {
	Endpoint        string `yaml:"endpoint"`
	Bucket          string `yaml:"bucket"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey Secret `yaml:"secret_access_key"`
	Region          string `yaml:"region"`
	Insecure        bool   `yaml:"insecure"`
}

// RegisterFlags registers the -storage.* flags with their defaults.
func (c *Config) RegisterFlags(f *flag.FlagSet) {
	f.StringVar(&c.Backend, "storage.backend", BackendFilesystem,
		"Object store backend: filesystem or s3.")
	f.StringVar(&c.Filesystem.Dir, "storage.filesystem.dir", "",
		"Root directory of the filesystem object store. Empty means <data dir>/chunks.")
	f.StringVar(&c.S3.Endpoint, "storage.s3.endpoint", "",
		"S3 endpoint as host[:port], without scheme (e.g. 127.0.0.1:9000 or s3.eu-west-1.amazonaws.com).")
	f.StringVar(&c.S3.Bucket, "storage.s3.bucket", "lode",
		"S3 bucket name; the bucket is created at start if it does not exist.")
	f.StringVar(&c.S3.AccessKeyID, "storage.s3.access-key-id", "",
		"S3 access key ID. Empty means the AWS_ACCESS_KEY_ID or MINIO_ROOT_USER environment variables.")
	f.StringVar((*string)(&c.S3.SecretAccessKey), "storage.s3.secret-access-key", "",
		"S3 secret access key (never printed by /config).")
	f.StringVar(&c.S3.Region, "storage.s3.region", "",
		"S3 region. Empty means the service default (us-east-1 for MinIO).")
	f.BoolVar(&c.S3.Insecure, "storage.s3.insecure", false,
		"Use plain HTTP instead of HTTPS to talk to the S3 endpoint.")
}

// Validate reports the first configuration error, naming the flag.
func (c *Config) Validate() error {
	switch c.Backend {
	case BackendFilesystem:
		return nil
	case BackendS3:
		return c.S3.validate()
	default:
		return fmt.Errorf("invalid -storage.backend %q: must be %q or %q", c.Backend, BackendFilesystem, BackendS3)
	}
}

func (c *S3Config) validate() error {
	switch {
	case c.Endpoint == "":
		return errors.New("-storage.s3.endpoint is required when -storage.backend=s3")
	case strings.Contains(c.Endpoint, "://"):
		return fmt.Errorf("invalid -storage.s3.endpoint %q: give host[:port] without a scheme "+
			"(use -storage.s3.insecure for plain HTTP)", c.Endpoint)
	case strings.ContainsAny(c.Endpoint, "/?# "):
		return fmt.Errorf("invalid -storage.s3.endpoint %q: give host[:port] without a path", c.Endpoint)
	case c.Bucket == "":
		return errors.New("-storage.s3.bucket is required when -storage.backend=s3")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return fmt.Errorf("invalid -storage.s3.bucket %q: %s", c.Bucket, err)
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return errors.New("-storage.s3.access-key-id and -storage.s3.secret-access-key must be set together")
	}
	return nil
}

// Dir returns the root directory of the filesystem backend:
// -storage.filesystem.dir if set, else <dataDir>/chunks.
func (c *Config) Dir(dataDir string) string {
	if c.Filesystem.Dir != "" {
		return c.Filesystem.Dir
	}
	return filepath.Join(dataDir, "chunks")
}

// New opens the configured bucket, wrapped with NewInstrumented. The
// configuration must have passed Validate. ctx bounds the start-up work
// (creating the S3 bucket); it is not retained.
func New(ctx context.Context, cfg Config, dataDir string, reg prometheus.Registerer) (Bucket, error) {
	var (
		b   Bucket
		err error
	)
	switch cfg.Backend {
	case BackendFilesystem:
		b, err = NewFilesystem(cfg.Dir(dataDir))
	case BackendS3:
		b, err = NewS3(ctx, cfg.S3, reg)
	default:
		err = fmt.Errorf("unknown backend %q", cfg.Backend)
	}
	if err != nil {
		return nil, fmt.Errorf("open object store: %w", err)
	}
	return NewInstrumented(b, reg), nil
}

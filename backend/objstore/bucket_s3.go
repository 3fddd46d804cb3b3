package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// responseHeaderTimeout bounds how long one S3 request waits for the
// server to start answering; the attempt is then retried.
const responseHeaderTimeout = time.Minute

// S3Bucket stores objects in one bucket of an S3-compatible service (MinIO,
// AWS S3, ...) through minio-go. Every operation is retried on transient
// failures (network errors, 5xx, 429, SlowDown) with bounded, jittered
// exponential backoff, and stops early when its context is done; minio-go's
// own retries are disabled so that this is the only retry loop.
//
// Puts are single PUT requests (no multipart upload), so an interrupted
// Put leaves nothing behind and S3 makes the object visible atomically.
//
// Safe for concurrent use by any number of goroutines.
type S3Bucket struct {
	client  *minio.Client
	core    minio.Core
	bucket  string
	policy  retryPolicy
	retries *prometheus.CounterVec // {op}
}

var _ Bucket = (*S3Bucket)(nil)

// NewS3 connects to the service described by cfg and creates the bucket if
// it does not exist (retrying while the service is unreachable, within the
// usual bounds). It registers lode_objstore_s3_retries_total with reg (nil:
// no registration).
func NewS3(ctx context.Context, cfg S3Config, reg prometheus.Registerer) (*S3Bucket, error) {
	return newS3(ctx, cfg, defaultRetryPolicy(), reg)
}

func newS3(ctx context.Context, cfg S3Config, policy retryPolicy, reg prometheus.Registerer) (*S3Bucket, error) {
	transport, err := minio.DefaultTransport(!cfg.Insecure)
	if err != nil {
		return nil, fmt.Errorf("open s3 bucket %s: transport: %w", cfg.Bucket, err)
	}
	transport.ResponseHeaderTimeout = responseHeaderTimeout
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      s3Credentials(cfg),
		Secure:     !cfg.Insecure,
		Transport:  transport,
		Region:     cfg.Region,
		MaxRetries: 1, // retries are ours, see retryPolicy
	})
	if err != nil {
		return nil, fmt.Errorf("open s3 bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	b := &S3Bucket{
		client: client,
		core:   minio.Core{Client: client},
		bucket: cfg.Bucket,
		policy: policy,
		retries: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Name: "lode_objstore_s3_retries_total",
			Help: "S3 requests repeated after a transient failure, by operation.",
		}, []string{"op"}),
	}
	if err := b.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, fmt.Errorf("open s3 bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	return b, nil
}

// s3Credentials returns static credentials when configured, else those of
// the AWS_* or MINIO_* environment variables.
func s3Credentials(cfg S3Config) *credentials.Credentials {
	if cfg.AccessKeyID != "" {
		return credentials.NewStaticV4(cfg.AccessKeyID, string(cfg.SecretAccessKey), "")
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.EnvMinio{},
	})
}

func (b *S3Bucket) ensureBucket(ctx context.Context, region string) error {
	return b.retry(ctx, "create_bucket", func(ctx context.Context) error {
		ok, err := b.client.BucketExists(ctx, b.bucket)
		if err != nil || ok {
			return err
		}
		err = b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
		if s3Code(err) == "BucketAlreadyOwnedByYou" {
			return nil // created concurrently by another node
		}
		return err
	})
}

func (b *S3Bucket) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return b.policy.do(ctx, func() { b.retries.WithLabelValues(op).Inc() }, fn)
}

// Put writes data under key with a single PUT request.
func (b *S3Bucket) Put(ctx context.Context, key string, data []byte) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	err := b.retry(ctx, "put", func(ctx context.Context) error {
		_, err := b.client.PutObject(ctx, b.bucket, key, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
		return err
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, translateS3Error(err))
	}
	return nil
}

// Get returns the whole object.
func (b *S3Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	return b.GetRange(ctx, key, 0, -1)
}

// GetRange returns length bytes from offset off (length < 0: to the end)
// with a ranged GET.
func (b *S3Bucket) GetRange(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if err := ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if off < 0 {
		return nil, fmt.Errorf("get %s: %w: negative offset %d", key, ErrInvalidRange, off)
	}
	var opts minio.GetObjectOptions
	switch {
	case length == 0:
		return b.emptyRange(ctx, key, off)
	case length > 0:
		_ = opts.SetRange(off, off+length-1) // valid: 0 <= off <= off+length-1
	case off > 0:
		_ = opts.SetRange(off, 0) // valid: "bytes=off-"
	}
	var data []byte
	err := b.retry(ctx, "get", func(ctx context.Context) error {
		var err error
		data, err = b.getOnce(ctx, key, opts)
		return err
	})
	if s3Code(err) == "InvalidRange" {
		// off is at or past the end: S3 cannot express an empty range.
		return b.emptyRange(ctx, key, off)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, translateS3Error(err))
	}
	return data, nil
}

func (b *S3Bucket) getOnce(ctx context.Context, key string, opts minio.GetObjectOptions) ([]byte, error) {
	body, info, _, err := b.core.GetObject(ctx, b.bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if info.Size < 0 {
		return io.ReadAll(body)
	}
	data := make([]byte, info.Size)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return data, nil
}

// emptyRange answers a range of no bytes at off: empty if the object exists
// and off is within or at its end.
func (b *S3Bucket) emptyRange(ctx context.Context, key string, off int64) ([]byte, error) {
	info, err := b.stat(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, translateS3Error(err))
	}
	if _, err := checkRange(info.Size, off, 0); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return []byte{}, nil
}

func (b *S3Bucket) stat(ctx context.Context, key string) (minio.ObjectInfo, error) {
	var info minio.ObjectInfo
	err := b.retry(ctx, "stat", func(ctx context.Context) error {
		var err error
		info, err = b.client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
		return err
	})
	return info, err
}

// Exists reports whether key exists.
func (b *S3Bucket) Exists(ctx context.Context, key string) (bool, error) {
	if err := ValidateKey(key); err != nil {
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
	_, err := b.stat(ctx, key)
	err = translateS3Error(err)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("exists %s: %w", key, err)
	}
}

// Delete removes key; deleting a missing key is not an error.
func (b *S3Bucket) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	err := b.retry(ctx, "delete", func(ctx context.Context) error {
		return b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{})
	})
	if err != nil && !errors.Is(translateS3Error(err), ErrNotFound) {
		return fmt.Errorf("delete %s: %w", key, translateS3Error(err))
	}
	return nil
}

// Iter calls fn for each key with the prefix, in lexical order. A listing
// interrupted by a transient failure resumes after the last key delivered.
func (b *S3Bucket) Iter(ctx context.Context, prefix string, fn func(key string) error) error {
	if err := validatePrefix(prefix); err != nil {
		return fmt.Errorf("iter %s: %w", prefix, err)
	}
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true}
	err := b.retry(ctx, "iter", func(ctx context.Context) error {
		for obj := range b.client.ListObjectsIter(ctx, b.bucket, opts) {
			if obj.Err != nil {
				return obj.Err
			}
			if err := fn(obj.Key); err != nil {
				return stopError{err}
			}
			opts.StartAfter = obj.Key
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("iter %s: %w", prefix, translateS3Error(err))
	}
	return nil
}

// s3Code returns the S3 error code carried by err, or "".
func s3Code(err error) string {
	if er, ok := errors.AsType[minio.ErrorResponse](err); ok {
		return er.Code
	}
	return ""
}

// translateS3Error maps minio-go errors onto the package's sentinels where
// they enter Lode. Other errors are returned unchanged.
func translateS3Error(err error) error {
	if err == nil {
		return nil
	}
	switch s3Code(err) {
	case "NoSuchKey":
		return ErrNotFound
	}
	if er, ok := errors.AsType[minio.ErrorResponse](err); ok && er.StatusCode == http.StatusNotFound && er.Code != "NoSuchBucket" {
		return ErrNotFound
	}
	return err
}

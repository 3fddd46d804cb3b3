// Package objstore is Lode's object storage: a small Bucket interface with a
// local filesystem implementation (the embedded default, under ./data) and
// an S3 implementation over minio-go/v7 (MinIO, AWS S3 and compatibles).
//
// Keys are slash-separated relative paths ("tenant/chunks/ab/cdef...")
// checked by ValidateKey, identically for every backend. Put is atomic: a
// reader sees either no object or the whole object, never a partial one.
// Objects are immutable once written; writing the same key again with the
// same content is allowed and idempotent (content-addressed chunk keys rely
// on it). A missing object is reported as ErrNotFound (wrapped), whatever
// the backend; errors.go lists the other sentinels.
//
// Main types: FilesystemBucket (temporary file in <root>/.staging, fsync,
// rename, fsync of the directory), S3Bucket (single-request PUTs, ranged
// GETs, bounded retries with jittered exponential backoff on transient
// failures), and two wrappers: NewInstrumented (Prometheus metrics per
// operation) and NewCached (a bounded LRU of whole objects). Config holds
// the -storage.* flags; New builds the configured, instrumented bucket.
// Secret keeps credentials out of /config output.
//
// Implementations are safe for concurrent use. Returned byte slices belong
// to the caller; Put does not retain its data argument.
//
// THREADS: the package starts no goroutines of its own. minio-go keeps idle
// HTTP connections in its transport. NewCached runs a miss on the caller's
// goroutine; concurrent Gets of the same key wait for it on a channel.
//
// Conformance: objstoretest.Run is the suite every Bucket must pass.
package objstore

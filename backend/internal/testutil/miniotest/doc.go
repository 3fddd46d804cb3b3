// Package miniotest runs a real MinIO server for tests.
//
// Start(t) launches `minio server` on a fresh temporary directory, with
// random root credentials, on two free 127.0.0.1 ports (S3 API and
// console), waits for GET /minio/health/ready to answer 200 without the
// "x-minio-server-status: offline" header (object layer still starting),
// and kills the process in t.Cleanup. The Server exposes Endpoint
// (host:port, plain HTTP), AccessKey and SecretKey, and can be stopped
// (SIGKILL) and restarted on the same directory, address and credentials,
// to test behaviour while the object store is down.
//
// The binary is $LODE_MINIO_BIN, else minio in `go env GOBIN`, else in
// `go env GOPATH`/bin, else on $PATH. Without one the test is skipped,
// unless LODE_REQUIRE_MINIO=1, which makes it fail instead. Inherited
// MINIO_* environment variables are not passed to the server.
//
// Each Server is used from its test's goroutine; Stop and Restart call
// t.Fatal on failure.
//
// THREADS: per running server, a goroutine waits for the process to exit
// (closing Server.exited), and os/exec copies its output into an in-memory
// buffer that is logged when the test fails.
package miniotest

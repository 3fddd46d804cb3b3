package frontend

import (
	"bytes"
	"fmt"
	"net/http"
)

// bufferWriter is the http.ResponseWriter a sub-query is answered into.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferWriter() *bufferWriter { return &bufferWriter{header: http.Header{}} }

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 && code >= 200 {
		b.status = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// Flush does nothing: the answer is used once complete.
func (b *bufferWriter) Flush() {}

// partError is the failed answer of a sub-query, returned to the client as
// it is (Loki style: status and plain-text body).
type partError struct {
	status int
	header http.Header
	body   []byte
}

func (e *partError) Error() string {
	return fmt.Sprintf("sub-query failed with status %d: %s", e.status, bytes.TrimSpace(e.body))
}

// errorFrom makes a partError of an error of the frontend itself.
func errorFrom(status int, err error) *partError {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	return &partError{status: status, header: h, body: []byte(err.Error() + "\n")}
}

// write answers the error.
func (e *partError) write(w http.ResponseWriter) {
	for _, k := range []string{"Content-Type", "X-Content-Type-Options", "Retry-After"} {
		if v := e.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
}

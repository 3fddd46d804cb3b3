package push

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
)

// Content types of push bodies.
const (
	ContentTypeProtobuf = "application/x-protobuf"
	ContentTypeJSON     = "application/json"
)

type bodyFormat uint8

const (
	formatProtobuf bodyFormat = iota
	formatJSON
)

// DecodeHTTP reads and decodes the body of a push request as Loki's
// /loki/api/v1/push does:
//   - Content-Type application/x-protobuf, or none: a snappy block-compressed
//     protobuf PushRequest;
//   - application/json: Loki's JSON shape (see DecodeJSON);
//   - Content-Encoding gzip or deflate, applied around either (a protobuf
//     body is snappy-compressed inside it); "snappy" and "identity" are
//     accepted as no-ops.
//
// maxBytes bounds the body both as sent and once decompressed; a body over
// it is refused with a *TooLargeError before it is held in memory (snappy
// length headers are checked before allocating, gzip is read through a
// limit). Errors wrap ErrMalformed, ErrTooLarge or ErrUnsupportedMediaType.
//
// The returned Request comes from the pool and its lines and strings point
// into its own buffers; give it back with PutRequest when done. DecodeHTTP
// does not close the body.
func DecodeHTTP(hr *http.Request, maxBytes int64) (*Request, error) {
	format, err := parseContentType(hr.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	enc := strings.ToLower(strings.TrimSpace(hr.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "gzip", "x-gzip", "deflate":
	case "snappy":
		if format != formatProtobuf {
			return nil, &UnsupportedError{Header: "Content-Encoding", Value: hr.Header.Get("Content-Encoding")}
		}
	default:
		return nil, &UnsupportedError{Header: "Content-Encoding", Value: hr.Header.Get("Content-Encoding")}
	}
	if hr.ContentLength > maxBytes {
		return nil, &TooLargeError{What: "body", Size: hr.ContentLength, Limit: maxBytes}
	}
	r := GetRequest()
	if err := r.decodeBody(hr.Body, hr.ContentLength, format, enc, maxBytes); err != nil {
		PutRequest(r)
		return nil, err
	}
	return r, nil
}

func parseContentType(v string) (bodyFormat, error) {
	switch strings.TrimSpace(v) {
	case "", ContentTypeProtobuf:
		return formatProtobuf, nil
	case ContentTypeJSON:
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return 0, &UnsupportedError{Header: "Content-Type", Value: v}
	}
	switch mt {
	case ContentTypeProtobuf, "application/protobuf":
		return formatProtobuf, nil
	case ContentTypeJSON:
		return formatJSON, nil
	}
	return 0, &UnsupportedError{Header: "Content-Type", Value: v}
}

// decodeBody reads body into r.raw, decompresses it, ping-ponging between
// r.raw and r.buf, and decodes the result.
func (r *Request) decodeBody(body io.Reader, size int64, format bodyFormat, enc string, maxBytes int64) error {
	var err error
	if r.raw, err = readLimited(r.raw[:0], body, size, maxBytes, "body"); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return err
		}
		return malformed("body", fmt.Errorf("read: %w", err))
	}
	if len(r.raw) == 0 {
		return malformed("body", errors.New("empty body"))
	}
	data := r.raw
	switch enc {
	case "gzip", "x-gzip", "deflate":
		if r.buf, err = inflate(r.buf[:0], data, enc, maxBytes); err != nil {
			return err
		}
		data = r.buf
		r.raw, r.buf = r.buf, r.raw // decompressed body now in raw, buf free
	}
	if format == formatJSON {
		return r.DecodeJSON(data)
	}
	if r.buf, err = decodeSnappy(r.buf[:0], data, maxBytes); err != nil {
		return err
	}
	return r.Unmarshal(r.buf)
}

// decodeSnappy decodes a snappy block after checking its length header
// against limit.
func decodeSnappy(dst, src []byte, limit int64) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return dst, malformed("snappy", err)
	}
	if int64(n) > limit {
		return dst, &TooLargeError{What: "decompressed body", Size: int64(n), Limit: limit}
	}
	out, err := s2.Decode(dst[:cap(dst)], src)
	if err != nil {
		return dst, malformed("snappy", err)
	}
	return out, nil
}

var gzipReaders sync.Pool // of *gzip.Reader

// inflate decompresses a gzip or deflate body into dst, reading at most
// limit bytes of output.
func inflate(dst, src []byte, enc string, limit int64) ([]byte, error) {
	rd := bytesReader{b: src}
	var zr io.Reader
	if enc == "deflate" {
		fr := flate.NewReader(&rd)
		defer fr.Close()
		zr = fr
	} else {
		gr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if gr == nil {
			gr, err = gzip.NewReader(&rd)
		} else {
			err = gr.Reset(&rd)
		}
		if err != nil {
			return dst, malformed("gzip", err)
		}
		defer gzipReaders.Put(gr)
		zr = gr
	}
	out, err := readLimited(dst, zr, -1, limit, "decompressed body")
	if err != nil && !errors.Is(err, ErrTooLarge) {
		return out, malformed(enc, err)
	}
	return out, err
}

// bytesReader is a minimal io.Reader over a byte slice (bytes.Reader
// without the allocation per request).
type bytesReader struct{ b []byte }

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// ReadByte makes bytesReader an io.ByteReader, so flate does not wrap it
// in a bufio.Reader.
func (r *bytesReader) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// readLimited reads rd to its end into dst[:0]'s spare capacity, growing it
// as needed, and fails with a *TooLargeError as soon as more than limit
// bytes arrived; other errors are the reader's, unwrapped. sizeHint (a
// Content-Length, or -1) sizes the first buffer.
func readLimited(dst []byte, rd io.Reader, sizeHint, limit int64, what string) ([]byte, error) {
	if sizeHint >= 0 && sizeHint <= limit && int64(cap(dst)) < sizeHint+1 {
		dst = make([]byte, 0, sizeHint+1) // +1: room to see EOF without growing
	}
	for {
		if len(dst) == cap(dst) {
			if int64(len(dst)) > limit {
				return dst, &TooLargeError{What: what, Size: -1, Limit: limit}
			}
			next := min(max(2*int64(cap(dst)), 64<<10), limit+1)
			grown := make([]byte, len(dst), next)
			copy(grown, dst)
			dst = grown
		}
		n, err := rd.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, &TooLargeError{What: what, Size: -1, Limit: limit}
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return dst, &TooLargeError{What: what, Size: -1, Limit: mbe.Limit}
			}
			return dst, err
		}
	}
}

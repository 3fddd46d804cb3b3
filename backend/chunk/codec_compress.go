package chunk

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// Codec names the compression of a block's sections. Values are frozen in
// FORMAT.md.
type Codec uint8

const (
	CodecNone   Codec = 0
	CodecSnappy Codec = 1
	CodecS2     Codec = 2
	CodecZstd   Codec = 3
	CodecLZ4    Codec = 4 // reserved; not implemented
)

// DefaultCodec is the codec chosen by measurement on the loggen corpus
// (ratio and decompression speed; see FORMAT.md).
const DefaultCodec = CodecZstd

// zstdLevel is the encoder level of CodecZstd. Changing it changes the bytes
// of new chunks (and so their content-addressed keys), never readability.
const zstdLevel = zstd.SpeedBetterCompression

// MaxBlockSize bounds the uncompressed size of each section of a block
// (lines, lengths, timestamps, metadata). Readers treat larger claims as
// corruption, so a corrupt block can never make them allocate more; writers
// must cut blocks far below it (Encode panics past it).
const MaxBlockSize = 64 << 20

const maxSectionRaw = MaxBlockSize

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecSnappy:
		return "snappy"
	case CodecS2:
		return "s2"
	case CodecZstd:
		return "zstd"
	case CodecLZ4:
		return "lz4"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// Valid reports whether this build can read and write c.
func (c Codec) Valid() bool { return c <= CodecZstd }

// zstdCodecs holds the shared zstd encoders (per level, a free list of
// single-goroutine encoders, created on demand up to GOMAXPROCS so that
// concurrent Encodes compress in parallel) and the shared decoder. EncodeAll
// and DecodeAll run on the calling goroutine.
type zstdCodecs struct {
	enc     [zstd.SpeedBestCompression + 1]encoderPool
	decOnce sync.Once
	dec     *zstd.Decoder
}

var zstds zstdCodecs // goroutine-safe

// encoderPool is a bounded free list of encoders of one level. Encoders
// are kept for the life of the process: one costs a few MiB of match
// tables, which a sync.Pool would drop and rebuild at every GC.
type encoderPool struct {
	once   sync.Once
	free   chan *zstd.Encoder // idle encoders
	tokens chan struct{}      // one per encoder created
}

// getEncoder returns an idle encoder of level, creating one if fewer than
// GOMAXPROCS exist, or else waiting for one. Return it with putEncoder.
func (z *zstdCodecs) getEncoder(level zstd.EncoderLevel) *zstd.Encoder {
	p := &z.enc[level]
	p.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		p.free, p.tokens = make(chan *zstd.Encoder, n), make(chan struct{}, n)
	})
	select {
	case e := <-p.free:
		return e
	default:
	}
	select {
	case e := <-p.free:
		return e
	case p.tokens <- struct{}{}:
		return newZstdEncoder(level)
	}
}

func (z *zstdCodecs) putEncoder(level zstd.EncoderLevel, e *zstd.Encoder) {
	z.enc[level].free <- e // never blocks: at most cap encoders exist
}

// zstdWindow is the encoders' window. Sections are compressed whole in one
// segment, so a window past the largest section (a block's lines: the block
// size plus at most one line) finds no further match, while each encoder
// keeps a history buffer of the window's size: 1 MiB instead of the default
// 8 MiB saves 7 MiB of heap per encoder and leaves the bytes of blocks up
// to 1 MiB unchanged.
const zstdWindow = 1 << 20

func newZstdEncoder(level zstd.EncoderLevel) *zstd.Encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithWindowSize(zstdWindow),
		zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(1),
		zstd.WithSingleSegment(true),
		zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic("BUG: zstd encoder options: " + err.Error())
	}
	return e
}

// decoder returns the shared zstd decoder. Only DecodeAll is used, which
// runs on the caller's goroutine with one of the decoder's block decoders:
// concurrency GOMAXPROCS lets that many reads decompress in parallel (1
// would serialize them) and starts no goroutine. Low-memory mode stays on:
// off, each block decoder preallocates ~2.5 MiB of sequence and literal
// buffers, for no measured gain (buffers grow once to what blocks need).
func (z *zstdCodecs) decoder() *zstd.Decoder {
	z.decOnce.Do(func() {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderLowmem(true),
			zstd.IgnoreChecksum(true),
			zstd.WithDecoderMaxMemory(maxSectionRaw))
		if err != nil {
			panic("BUG: zstd decoder options: " + err.Error())
		}
		z.dec = d
	})
	return z.dec
}

// compressor appends compressed sections. The zero level means the codec's
// default level.
type compressor struct {
	codec  Codec
	zlevel zstd.EncoderLevel // CodecZstd only
	s2mode int               // CodecS2 only: 0 default, 1 better, 2 best
}

func newCompressor(c Codec) compressor {
	return compressor{codec: c, zlevel: zstdLevel, s2mode: 1}
}

// appendCompressed appends the compressed form of src to dst. An empty src
// appends nothing.
func (c compressor) appendCompressed(dst, src []byte) []byte {
	if len(src) == 0 {
		return dst
	}
	switch c.codec {
	case CodecNone:
		return append(dst, src...)
	case CodecSnappy:
		n := len(dst)
		dst = grow(dst, snappy.MaxEncodedLen(len(src)))
		out := snappy.Encode(dst[n:cap(dst)], src)
		return dst[:n+len(out)]
	case CodecS2:
		n := len(dst)
		dst = grow(dst, s2.MaxEncodedLen(len(src)))
		var out []byte
		switch c.s2mode {
		case 0:
			out = s2.Encode(dst[n:cap(dst)], src)
		case 2:
			out = s2.EncodeBest(dst[n:cap(dst)], src)
		default:
			out = s2.EncodeBetter(dst[n:cap(dst)], src)
		}
		return dst[:n+len(out)]
	case CodecZstd:
		e := zstds.getEncoder(c.zlevel)
		dst = e.EncodeAll(src, dst)
		zstds.putEncoder(c.zlevel, e)
		return dst
	}
	panic("BUG: compress with unknown codec " + c.codec.String())
}

// appendDecompressed appends the decompression of src, which must be
// exactly rawLen bytes, to dst.
func appendDecompressed(codec Codec, dst, src []byte, rawLen int) ([]byte, error) {
	if rawLen == 0 {
		if len(src) != 0 {
			return dst, fmt.Errorf("non-empty section of raw length 0: %w", ErrCorrupt)
		}
		return dst, nil
	}
	if rawLen > maxSectionRaw || len(src) == 0 {
		return dst, fmt.Errorf("section length %d: %w", rawLen, ErrCorrupt)
	}
	n := len(dst)
	switch codec {
	case CodecNone:
		if len(src) != rawLen {
			return dst, fmt.Errorf("raw section length %d, want %d: %w", len(src), rawLen, ErrCorrupt)
		}
		return append(dst, src...), nil
	case CodecSnappy, CodecS2:
		var l int
		var err error
		if codec == CodecSnappy {
			l, err = snappy.DecodedLen(src)
		} else {
			l, err = s2.DecodedLen(src)
		}
		if err != nil || l != rawLen {
			return dst, fmt.Errorf("%s section length %d (%v), want %d: %w", codec, l, err, rawLen, ErrCorrupt)
		}
		dst = grow(dst, rawLen)
		into := dst[n : n+rawLen]
		var out []byte
		if codec == CodecSnappy {
			out, err = snappy.Decode(into, src)
		} else {
			out, err = s2.Decode(into, src)
		}
		if err != nil || len(out) != rawLen {
			return dst, fmt.Errorf("decompress %s section: %v: %w", codec, err, ErrCorrupt)
		}
		if &out[0] != &into[0] {
			copy(into, out)
		}
		return dst[:n+rawLen], nil
	case CodecZstd:
		var h zstd.Header
		if err := h.Decode(src); err != nil || !h.HasFCS || h.FrameContentSize != uint64(rawLen) {
			return dst, fmt.Errorf("zstd section header (%v): %w", err, ErrCorrupt)
		}
		dst = grow(dst, rawLen+zstdSlack)
		out, err := zstds.decoder().DecodeAll(src, dst[:n])
		if err != nil || len(out) != n+rawLen {
			return dst[:n], fmt.Errorf("decompress zstd section: %v: %w", err, ErrCorrupt)
		}
		return out, nil
	}
	return dst, fmt.Errorf("codec %d: %w", uint8(codec), ErrUnknownCodec)
}

// zstdSlack is the room left past a zstd section's end when decompressing
// it: with at least 32 bytes to spare the decoder copies literals and
// matches in whole 16- or 32-byte words even at the end of the section;
// without, it falls back to exact copies for the last block of a frame.
const zstdSlack = 64

// grow makes room for n more bytes in b (len unchanged).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n+len(b)/4)
	copy(nb, b)
	return nb
}

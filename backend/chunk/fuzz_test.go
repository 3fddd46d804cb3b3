package chunk

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/lode-logs/lode/backend/model"
)

// readEverything reads a decoded chunk in every way a caller can.
func readEverything(c *Chunk) error {
	opts := []ReadOptions{{}, {TimestampsOnly: true}, {Needles: [][]byte{[]byte("error"), []byte("ab")}}}
	for _, dir := range []model.Direction{model.Forward, model.Backward} {
		for _, o := range opts {
			it := c.Entries(-1<<62, 1<<62, dir, o)
			for it.Next() {
				_ = it.At()
			}
			err := it.Err()
			_ = it.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func isFormatError(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnknownVersion) || errors.Is(err, ErrUnknownCodec)
}

// FuzzDecode feeds arbitrary bytes to Decode and reads whatever decodes:
// never a panic, and every failure is one of the package's sentinels.
func FuzzDecode(f *testing.F) {
	if fixture, err := os.ReadFile("testdata/v1.chunk"); err == nil {
		f.Add(fixture)
	}
	for _, codec := range allCodecs {
		f.Add(encodeChunk(f, codec, randomBlocks(rand.New(rand.NewPCG(uint64(codec), 1)), 2, 20)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(data)
		if err != nil {
			if !isFormatError(err) {
				t.Fatalf("Decode error %v is not a format error", err)
			}
			return
		}
		if err := readEverything(c); err != nil && !isFormatError(err) {
			t.Fatalf("read error %v is not a format error", err)
		}
	})
}

// FuzzBlock reads one block with a given meta without checking the block
// checksum, so that mutations reach the decompressors and section parsers.
func FuzzBlock(f *testing.F) {
	for _, codec := range allCodecs {
		for _, es := range randomBlocks(rand.New(rand.NewPCG(uint64(codec), 2)), 2, 30) {
			eb := encodeBlock(f, codec, es)
			f.Add(eb.Data, AppendBlockMeta(nil, eb.Meta))
		}
	}
	f.Fuzz(func(t *testing.T, data, metaBytes []byte) {
		m, _, err := ReadBlockMeta(metaBytes)
		if err != nil {
			if !isFormatError(err) {
				t.Fatalf("ReadBlockMeta error %v is not a format error", err)
			}
			return
		}
		for _, dir := range []model.Direction{model.Forward, model.Backward} {
			for _, tsOnly := range []bool{false, true} {
				o := ReadOptions{TimestampsOnly: tsOnly}
				it := newBlockIter(data, &m, -1<<62, 1<<62, dir, &o, false)
				for it.Next() {
					_ = it.At()
				}
				if err := it.Err(); err != nil && !isFormatError(err) {
					t.Fatalf("read error %v is not a format error", err)
				}
				_ = it.Close()
			}
		}
		_ = m.MayContain(data)
	})
}

package ingester

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/objstore"
)

// walBody encodes entries as a WAL record body.
func walBody(es ...model.Entry) []byte {
	var body []byte
	for k := range es {
		body = appendEntry(body, &es[k])
	}
	return body
}

// logLines returns n entries of realistic, compressible lines.
func logLines(from int64, n int) []model.Entry {
	es := make([]model.Entry, n)
	for k := range es {
		es[k] = ent(from+int64(k), fmt.Sprintf(`level=info ts=%d caller=server.go:%d msg="request served" path=/api/v1/items/%d status=200`, from+int64(k), 100+k%7, k))
	}
	return es
}

func TestWALValueRoundTrip(t *testing.T) {
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range random {
		random[k] = byte(rng.Uint32())
	}
	huge := strings.Repeat("x", maxCompressedBody)
	cases := []struct {
		name    string
		body    []byte
		version byte
	}{
		{"tiny body stays raw", walBody(ent(t0, "short")), recordVersion},
		{"log lines are compressed", walBody(logLines(t0, 200)...), walVersionS2},
		{"incompressible body stays raw", walBody(model.Entry{Timestamp: t0, Line: random}), recordVersion},
		{"body over the compression bound stays raw", walBody(ent(t0, huge)), recordVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("key")
			val := appendWALValue(bytes.Clone(prefix), c.body)
			if !bytes.HasPrefix(val, prefix) {
				t.Fatal("appendWALValue overwrote dst")
			}
			val = val[len(prefix):]
			if val[0] != c.version {
				t.Fatalf("version %d, want %d", val[0], c.version)
			}
			if c.version == walVersionS2 && len(val) > len(c.body)/2 {
				t.Errorf("compressed to %d of %d bytes", len(val), len(c.body))
			}
			body, _, err := readWALValue(val, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, c.body) {
				t.Fatal("body changed in the round trip")
			}
			if err := checkEntries(body); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReadWALValueRejectsCorruption(t *testing.T) {
	body := walBody(logLines(t0, 100)...)
	good := appendWALValue(nil, body)
	if good[0] != walVersionS2 {
		t.Fatal("test body not compressed")
	}
	lengthHeader := func(n uint64) []byte {
		return binary.AppendUvarint([]byte{walVersionS2}, n)
	}
	cases := []struct {
		name string
		val  []byte
	}{
		{"empty value", nil},
		{"unknown version", append([]byte{3}, body...)},
		{"truncated block", good[:len(good)/2]},
		{"no length header", []byte{walVersionS2}},
		{"length over the bound", append(lengthHeader(maxCompressedBody+1), good[2:]...)},
		{"length longer than the data", append(lengthHeader(uint64(len(body)+1)), good[1+uvarintLen(len(body)):]...)},
		{"garbage block", append(lengthHeader(1000), bytes.Repeat([]byte{0xff}, 50)...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := readWALValue(c.val, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("readWALValue: %v, want ErrCorrupt", err)
			}
		})
	}
}

func uvarintLen(n int) int { return len(binary.AppendUvarint(nil, uint64(n))) }

// rawBuffer writes a Badger buffer by hand, as an older version (or a
// corrupted disk) left it: the format key, and kvs in order.
func rawBuffer(t *testing.T, cfg Config, dir string, format byte, kvs ...[]byte) {
	t.Helper()
	db, err := badger.Open(badgerOptions(dir, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(formatKey, []byte{format}); err != nil {
			return err
		}
		for k := 0; k+1 < len(kvs); k += 2 {
			if err := txn.Set(kvs[k], kvs[k+1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openRaw opens an env over a buffer written by rawBuffer.
func openRaw(t *testing.T, cfg Config, dir string) *env {
	t.Helper()
	fs, err := objstore.NewFilesystem(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, dir: dir, bucket: &flakyBucket{Bucket: fs}, index: &fakeIndex{}, clock: newFakeClock()}
	e.open()
	t.Cleanup(func() { _ = e.ing.Close() })
	return e
}

// walVersions counts the WAL records by version byte.
func (e *env) walVersions() map[byte]int {
	e.t.Helper()
	n := map[byte]int{}
	err := e.ing.scan(prefixWAL, true, func(_, val []byte) error { n[val[0]]++; return nil })
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestReplayVersion1Buffer replays a buffer of format version 1 (WAL
// records uncompressed, as the previous version wrote them), upgrades it,
// adds compressed records to the same stream and replays both kinds.
func TestReplayVersion1Buffer(t *testing.T) {
	cfg := testConfig()
	dir := filepath.Join(t.TempDir(), "badger")
	ls := labelsFromPairs("app=api,env=prod")
	fp := model.StreamFingerprint(testTenant, ls)
	v1 := logLines(t0, 30)
	rawBuffer(t, cfg, dir, 1,
		streamKey(7), appendStreamRecord(nil, testTenant, fp, ls),
		walKey(nil, 7, 3), append([]byte{recordVersion}, walBody(v1[:10]...)...),
		walKey(nil, 7, 4), append([]byte{recordVersion}, walBody(v1[10:]...)...),
	)
	pushed := []model.Stream{{Labels: ls, Fingerprint: fp, Entries: v1}}
	want := func() []model.StreamEntry { return sortEntries(flatten(pushed), model.Forward) }

	e := openRaw(t, cfg, dir)
	sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), want())
	var format []byte
	if err := e.ing.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(formatKey)
		if err == nil {
			format, err = item.ValueCopy(nil)
		}
		return err
	}); err != nil || !bytes.Equal(format, []byte{formatVersion}) {
		t.Fatalf("format key after opening a version 1 buffer: %v %v, want %d", format, err, formatVersion)
	}

	more := mkStream("app=api,env=prod", logLines(t0+1000, 40)...)
	e.push(more)
	pushed = append(pushed, more)
	if v := e.walVersions(); v[recordVersion] != 2 || v[walVersionS2] != 1 {
		t.Fatalf("WAL records by version: %v, want 2 of version 1 and 1 of version 2", v)
	}
	e.reopen()
	sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), want())
	if got := e.ing.nextWSeq.Load(); got < 5 {
		t.Fatalf("next WAL sequence %d reuses replayed ones", got)
	}
}

// TestReplayRejectsCorruptWALRecord checks that replay fails with
// ErrCorrupt, rather than guessing, on a WAL record that does not decode,
// and that it refuses format versions it does not know.
func TestReplayRejectsCorruptWALRecord(t *testing.T) {
	ls := labelsFromPairs("app=api")
	fp := model.StreamFingerprint(testTenant, ls)
	body := walBody(logLines(t0, 50)...)
	good := appendWALValue(nil, body)
	badEntries := append([]byte{walVersionS2}, s2.Encode(nil, append(bytes.Clone(body), 0x80))...)
	cases := []struct {
		name   string
		format byte
		val    []byte
	}{
		{"truncated compressed record", formatVersion, good[:len(good)-10]},
		{"compressed record of malformed entries", formatVersion, badEntries},
		{"unknown record version", formatVersion, append([]byte{9}, body...)},
		{"future format version", formatVersion + 1, good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			dir := filepath.Join(t.TempDir(), "badger")
			rawBuffer(t, cfg, dir, c.format,
				streamKey(1), appendStreamRecord(nil, testTenant, fp, ls),
				walKey(nil, 1, 1), c.val)
			_, err := New(cfg, Deps{Dir: dir, Bucket: &flakyBucket{}, Index: &fakeIndex{},
				Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("New: %v, want ErrCorrupt", err)
			}
		})
	}
}

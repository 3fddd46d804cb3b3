package rpc

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

var update = flag.Bool("update", false, "rewrite the testdata fixtures")

// split cuts b into a BufferSlice of pieces of at most n bytes, as gRPC
// hands over large messages.
func split(b []byte, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > n {
		out = append(out, mem.SliceBuffer(bytes.Clone(b[:n])))
		b = b[n:]
	}
	return append(out, mem.SliceBuffer(bytes.Clone(b)))
}

func marshalBytes(t testing.TB, m marshaler) []byte {
	t.Helper()
	bs, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	b := bs.Materialize()
	bs.Free()
	return b
}

func TestCodecRegistered(t *testing.T) {
	c := encoding.GetCodecV2(ContentSubtype)
	if c == nil {
		t.Fatal("codec not registered")
	}
	if _, err := c.Marshal(struct{}{}); err == nil {
		t.Fatal("marshal of a foreign type succeeded")
	}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer{1}}, new(int)); err == nil {
		t.Fatal("unmarshal into a foreign type succeeded")
	}
}

func TestPushRequestRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		streams []model.Stream
		piece   int // size of received pieces; 0: one piece
	}{
		{"empty", nil, 0},
		{"one entry", []model.Stream{{Labels: labels.FromStrings("a", "b"), Fingerprint: 1, Entries: []model.Entry{{Timestamp: 5, Line: []byte("x")}}}}, 0},
		{"no labels, no entries", []model.Stream{{Fingerprint: 7}}, 0},
		{"varied one piece", testStreams("t", 7, 40), 0},
		{"varied split", testStreams("t", 7, 40), 1000},
		{"many streams split", testStreams("t", 300, 3), 16384},
	}
	pool := new(bufPool)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := marshalBytes(t, &pushRequest{Tenant: "tenant-1", Streams: tc.streams, pool: pool})
			data := mem.BufferSlice{mem.SliceBuffer(b)}
			if tc.piece > 0 {
				data = split(b, tc.piece)
			}
			got := &pushRequest{pool: pool}
			if err := got.unmarshal(data); err != nil || got.decodeErr != nil {
				t.Fatal(err, got.decodeErr)
			}
			if got.Tenant != "tenant-1" {
				t.Fatalf("tenant %q", got.Tenant)
			}
			equalStreams(t, got.Streams, tc.streams)
			got.reset()
			if len(got.Streams) != 0 || got.held.own != nil || got.held.ref != nil {
				t.Fatal("reset kept data")
			}
		})
	}
}

// TestPushDecodeLabelsOwnMemory checks that labels survive the reuse of
// the receive buffer (the ingester keeps stream labels).
func TestPushDecodeLabelsOwnMemory(t *testing.T) {
	streams := testStreams("t", 3, 5)
	b := marshalBytes(t, &pushRequest{Tenant: "t", Streams: streams})
	var r pushRequest
	if err := r.decode(b); err != nil {
		t.Fatal(err)
	}
	ls, md := r.Streams[1].Labels, r.Streams[1].Entries[3].Metadata
	clear(b)
	if !labels.Equal(ls, streams[1].Labels) || !labels.Equal(md, streams[1].Entries[3].Metadata) {
		t.Fatalf("labels changed with the buffer: %s %s", ls, md)
	}
}

// TestLogSelectFields fails when model.LogSelect gains a field: the query
// request must then carry it (appendQueryRequest, decode, FORMAT.md).
func TestLogSelectFields(t *testing.T) {
	want := []string{"Tenant", "Matchers", "Start", "End", "Direction", "Limit", "Needles", "TimestampsOnly"}
	typ := reflect.TypeFor[model.LogSelect]()
	var got []string
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("model.LogSelect fields are %v; the query request encodes %v", got, want)
	}
}

func testSelect() model.LogSelect {
	return model.LogSelect{
		Tenant: "tenant-a",
		Matchers: []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, "app", "api"),
			labels.MustNewMatcher(labels.MatchNotEqual, "level", ""),
			labels.MustNewMatcher(labels.MatchRegexp, "pod", "api-.*"),
			labels.MustNewMatcher(labels.MatchNotRegexp, "ns", "kube-(system|public)"),
		},
		Start:          -5,
		End:            1 << 62,
		Direction:      model.Forward,
		Limit:          1234,
		Needles:        [][]byte{[]byte("error"), {0xff, 0x00}, {}},
		TimestampsOnly: true,
	}
}

func equalSelect(t *testing.T, got, want model.LogSelect) {
	t.Helper()
	if len(got.Matchers) != len(want.Matchers) {
		t.Fatalf("matchers %v, want %v", got.Matchers, want.Matchers)
	}
	for k := range want.Matchers {
		g, w := got.Matchers[k], want.Matchers[k]
		if g.Type != w.Type || g.Name != w.Name || g.Value != w.Value {
			t.Fatalf("matcher %d: %v, want %v", k, g, w)
		}
	}
	got.Matchers, want.Matchers = nil, nil
	if len(want.Needles) == 0 {
		want.Needles = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("select\n got %+v\nwant %+v", got, want)
	}
}

func TestQueryRequestRoundTrip(t *testing.T) {
	full := testSelect()
	cases := []struct {
		name string
		sel  model.LogSelect
	}{
		{"full", full},
		{"zero", model.LogSelect{}},
		{"backward no limit", model.LogSelect{Tenant: "x", Matchers: full.Matchers[:1], Start: 1, End: 2}},
		{"negative limit", model.LogSelect{Tenant: "x", Limit: -1, Direction: model.Backward}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := marshalBytes(t, &queryRequest{Sel: tc.sel})
			var got queryRequest
			if err := got.unmarshal(split(b, 7)); err != nil || got.decodeErr != nil {
				t.Fatal(err, got.decodeErr)
			}
			equalSelect(t, got.Sel, tc.sel)
		})
	}
}

// TestQueryBatchRoundTrip encodes entries over a few streams through the
// batch writer and decodes them back in order.
func TestQueryBatchRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		entries []model.StreamEntry
	}{
		{"forward", queryEntries(50, 100, model.Forward)},
		{"backward", queryEntries(50, 100, model.Backward)},
		{"one empty line", []model.StreamEntry{{Labels: labels.EmptyLabels(), Entry: model.Entry{Timestamp: -1}}}},
	}
	pool := new(bufPool)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newBatchWriter(pool)
			for k := range tc.entries {
				w.add(&tc.entries[k])
			}
			if w.count() != len(tc.entries) {
				t.Fatalf("len %d", w.count())
			}
			b := marshalBytes(t, w)
			if w.size() != 0 || len(w.index) != 0 {
				t.Fatal("marshal did not start a new batch")
			}
			q := queryBatch{pool: pool}
			if err := q.unmarshal(split(b, 300)); err != nil {
				t.Fatal(err)
			}
			if len(q.streams) > 5 {
				t.Fatalf("%d table rows: labels sent more than once per stream", len(q.streams))
			}
			var e model.StreamEntry
			for k := range tc.entries {
				if !q.next(&e) {
					t.Fatalf("entry %d missing: %v", k, q.err())
				}
				if !sameStreamEntry(e, tc.entries[k]) {
					t.Fatalf("entry %d: got %+v, want %+v", k, e, tc.entries[k])
				}
			}
			if q.next(&e) || q.err() != nil {
				t.Fatalf("extra entry or error %v", q.err())
			}
			q.release()
		})
	}
}

func TestSeriesAndClusterRoundTrip(t *testing.T) {
	t.Run("series request", func(t *testing.T) {
		want := seriesRequest{Tenant: "t", From: -3, Through: 99, Matchers: testSelect().Matchers}
		var got seriesRequest
		if err := got.unmarshal(split(marshalBytes(t, &want), 3)); err != nil || got.decodeErr != nil {
			t.Fatal(err, got.decodeErr)
		}
		if got.Tenant != want.Tenant || got.From != want.From || got.Through != want.Through || len(got.Matchers) != 4 || got.Matchers[3].String() != want.Matchers[3].String() {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("series reply", func(t *testing.T) {
		want := []index.Stream{{Fingerprint: 1, Labels: streamLabels(1)}, {Fingerprint: 1 << 63, Labels: labels.EmptyLabels()}}
		var got seriesReply
		if err := got.unmarshal(split(marshalBytes(t, &seriesReply{Streams: want}), 5)); err != nil {
			t.Fatal(err)
		}
		if len(got.Streams) != 2 || got.Streams[1].Fingerprint != 1<<63 || !labels.Equal(got.Streams[0].Labels, want[0].Labels) {
			t.Fatalf("got %+v", got.Streams)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		var req clusterRequest
		if err := req.unmarshal(split(marshalBytes(t, &clusterRequest{Op: "join", Body: []byte{0, 1, 0xff}}), 2)); err != nil || req.decodeErr != nil {
			t.Fatal(err, req.decodeErr)
		}
		if req.Op != "join" || !bytes.Equal(req.Body, []byte{0, 1, 0xff}) {
			t.Fatalf("got %+v", req)
		}
		var rep clusterReply
		if err := rep.unmarshal(split(marshalBytes(t, &clusterReply{Body: []byte("ok")}), 2)); err != nil || string(rep.Body) != "ok" {
			t.Fatalf("got %q, %v", rep.Body, err)
		}
	})
}

func TestDecodeMalformed(t *testing.T) {
	push := marshalBytes(t, &pushRequest{Tenant: "t", Streams: testStreams("t", 2, 6)})
	query := marshalBytes(t, &queryRequest{Sel: testSelect()})
	badRegexp := marshalBytes(t, &queryRequest{Sel: model.LogSelect{Matchers: []*labels.Matcher{{Type: labels.MatchRegexp, Name: "a", Value: "("}}}})
	huge := append([]byte{wireVersion, 1, 't'}, 0xff, 0xff, 0xff, 0xff, 0x0f, 0) // 4G streams
	cases := []struct {
		name   string
		decode func() error
	}{
		{"push empty", func() error { var r pushRequest; return r.decode(nil) }},
		{"push version", func() error { var r pushRequest; return r.decode(append([]byte{2}, push[1:]...)) }},
		{"push truncated", func() error { var r pushRequest; return r.decode(push[:len(push)-1]) }},
		{"push trailing", func() error { var r pushRequest; return r.decode(append(bytes.Clone(push), 0)) }},
		{"push huge count", func() error { var r pushRequest; return r.decode(huge) }},
		{"query truncated", func() error { var r queryRequest; return r.decode(query[:len(query)-2]) }},
		{"query flags", func() error { var r queryRequest; q := bytes.Clone(query); q[len(q)-1] = 0x80; return r.decode(q) }},
		{"query bad regexp", func() error { var r queryRequest; return r.decode(badRegexp) }},
		{"batch empty", func() error { var q queryBatch; return q.parse(nil) }},
		{"batch huge counts", func() error { var q queryBatch; return q.parse([]byte{1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}) }},
		{"cluster version", func() error {
			var r clusterRequest
			_ = r.unmarshal(mem.BufferSlice{mem.SliceBuffer{9, 0, 0}})
			return r.decodeErr
		}},
		{"empty reply", func() error { var r emptyReply; return r.unmarshal(mem.BufferSlice{mem.SliceBuffer{1, 2}}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v, want ErrMalformed", err)
			}
		})
	}
}

func TestBatchBadStreamIndex(t *testing.T) {
	// One stream, one entry pointing at row 3.
	b := []byte{1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0}
	var q queryBatch
	if err := q.parse(b); err != nil {
		t.Fatal(err)
	}
	var e model.StreamEntry
	if q.next(&e) || !errors.Is(q.err(), ErrMalformed) {
		t.Fatalf("next accepted a bad row: %v", q.err())
	}
}

// fixtures are the frozen v1 encodings of FORMAT.md. Regenerate with
// -update only when adding a message; a v1 fixture must never change.
func fixtures() map[string]marshaler {
	sel := testSelect()
	w := newBatchWriter(nil)
	for _, e := range queryEntries(6, 20, model.Backward) {
		w.add(&e)
	}
	return map[string]marshaler{
		"push_request.v1.bin":    &pushRequest{Tenant: "fixture", Streams: testStreams("fixture", 2, 5)},
		"push_reply.v1.bin":      emptyReply{},
		"query_request.v1.bin":   &queryRequest{Sel: sel},
		"query_batch.v1.bin":     w,
		"series_request.v1.bin":  &seriesRequest{Tenant: "fixture", From: 1, Through: 2, Matchers: sel.Matchers},
		"series_reply.v1.bin":    &seriesReply{Streams: []index.Stream{{Fingerprint: 42, Labels: streamLabels(3)}}},
		"cluster_request.v1.bin": &clusterRequest{Op: "apply", Body: []byte{1, 2, 3}},
		"cluster_reply.v1.bin":   &clusterReply{Body: []byte("done")},
	}
}

func TestFixtures(t *testing.T) {
	for name, m := range fixtures() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			enc := marshalBytes(t, m)
			if *update {
				if err := os.WriteFile(path, enc, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			frozen, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(frozen, enc) {
				t.Fatalf("encoding of %s changed: a v1 message must keep its bytes", name)
			}
			if err := decodeFixture(name, frozen); err != nil {
				t.Fatalf("decode frozen %s: %v", name, err)
			}
		})
	}
}

func decodeFixture(name string, b []byte) error {
	data := mem.BufferSlice{mem.SliceBuffer(b)}
	switch name {
	case "push_request.v1.bin":
		r := &pushRequest{}
		_ = r.unmarshal(data)
		if r.decodeErr != nil {
			return r.decodeErr
		}
		if len(r.Streams) != 2 || len(r.Streams[1].Entries) != 5 {
			return errors.New("wrong content")
		}
		return nil
	case "push_reply.v1.bin":
		return new(emptyReply).unmarshal(data)
	case "query_request.v1.bin":
		r := new(queryRequest)
		_ = r.unmarshal(data)
		return r.decodeErr
	case "query_batch.v1.bin":
		q := &queryBatch{}
		if err := q.unmarshal(data); err != nil {
			return err
		}
		var e model.StreamEntry
		n := 0
		for q.next(&e) {
			n++
		}
		if n != 6 {
			return errors.New("wrong entry count")
		}
		return q.err()
	case "series_request.v1.bin":
		r := new(seriesRequest)
		_ = r.unmarshal(data)
		return r.decodeErr
	case "series_reply.v1.bin":
		return new(seriesReply).unmarshal(data)
	case "cluster_request.v1.bin":
		r := new(clusterRequest)
		_ = r.unmarshal(data)
		return r.decodeErr
	case "cluster_reply.v1.bin":
		return new(clusterReply).unmarshal(data)
	}
	return errors.New("unknown fixture")
}

// FuzzDecode checks that no input makes a decoder panic or loop.
func FuzzDecode(f *testing.F) {
	for name, m := range fixtures() {
		f.Add(name[0], marshalBytes(f, m))
	}
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		var e model.StreamEntry
		switch kind % 4 {
		case 0:
			var r pushRequest
			_ = r.decode(b)
		case 1:
			var r queryRequest
			_ = r.decode(b)
		case 2:
			var q queryBatch
			if q.parse(b) == nil {
				for q.next(&e) {
				}
			}
		case 3:
			_ = new(seriesReply).unmarshal(mem.BufferSlice{mem.SliceBuffer(b)})
		}
	})
}

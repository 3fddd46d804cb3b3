package distributor

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/push"
)

// testNow is the distributor's clock in tests.
var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	nowNS = 1714564800000000000 // testNow
	hour  = int64(time.Hour)
)

// fakePusher records what reaches it, copying as the Pusher contract asks.
type fakePusher struct {
	mu      sync.Mutex
	streams []model.Stream
	err     error
}

func (p *fakePusher) Push(_ context.Context, tenant string, streams []model.Stream) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	for _, s := range streams {
		if s.Fingerprint != model.StreamFingerprint(tenant, s.Labels) {
			panic("BUG: fingerprint mismatch")
		}
		c := model.Stream{Labels: s.Labels, Fingerprint: s.Fingerprint}
		for _, e := range s.Entries {
			c.Entries = append(c.Entries, e.Clone())
		}
		p.streams = append(p.streams, c)
	}
	return nil
}

// lines lists what was pushed as "labels line" strings.
func (p *fakePusher) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.streams {
		for _, e := range s.Entries {
			out = append(out, s.Labels.String()+" "+string(e.Line))
		}
	}
	return out
}

func testLimits(t testing.TB, overrides map[string]func(*limits.Tenant)) *limits.Overrides {
	t.Helper()
	var cfg limits.Config
	cfg.RegisterFlags(flag.NewFlagSet("", flag.PanicOnError))
	cfg.IngestionRateMB, cfg.IngestionBurstSizeMB = 1, 1
	cfg.Overrides = map[string]limits.Tenant{}
	for id, f := range overrides {
		tl := cfg.Tenant
		f(&tl)
		cfg.Overrides[id] = tl
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return limits.NewOverrides(cfg)
}

func newTestDistributor(t testing.TB, p Pusher, reg prometheus.Registerer) *Distributor {
	t.Helper()
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("", flag.PanicOnError))
	d, err := New(cfg, Deps{
		Pusher:     p,
		Limits:     testLimits(t, map[string]func(*limits.Tenant){"truncating": func(l *limits.Tenant) { l.MaxLineSizeTruncate = true; l.MaxLineSize = 8 }}),
		Registerer: reg,
		Now:        func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// entry and stream build push requests tersely.
func entry(ts int64, line string, md ...string) push.Entry {
	e := push.Entry{Timestamp: ts, Line: []byte(line)}
	for i := 0; i+1 < len(md); i += 2 {
		e.Metadata = append(e.Metadata, push.LabelPair{Name: md[i], Value: md[i+1]})
	}
	return e
}

func stream(ls string, entries ...push.Entry) push.Stream {
	return push.Stream{Labels: ls, Entries: entries}
}

func protoBody(streams ...push.Stream) []byte {
	r := push.Request{Streams: streams}
	return s2.EncodeSnappy(nil, r.AppendMarshal(nil))
}

func httpRequest(body []byte, contentType, encoding string) *http.Request {
	hr := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(body))
	hr.Header.Set("Content-Type", contentType)
	if encoding != "" {
		hr.Header.Set("Content-Encoding", encoding)
	}
	return hr
}

func gzipBomb(t testing.TB, size int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := w.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBadInput runs whole requests (decoding included) and checks the
// exact message, the HTTP class of the error, and that exactly the valid
// lines reach the Pusher.
func TestBadInput(t *testing.T) {
	const maxBody = 1 << 20
	long := strings.Repeat("x", 262145)
	tests := []struct {
		name      string
		tenant    string
		req       *http.Request
		sentinel  error    // nil: no error
		want      string   // the error message
		wantLines []string // what reaches the Pusher
	}{
		{
			name:     "malformed protobuf",
			req:      httpRequest(s2.EncodeSnappy(nil, []byte{0x0a, 0x05, 0x0a, 0x09, 0x7b}), push.ContentTypeProtobuf, ""),
			sentinel: push.ErrMalformed,
			want:     "malformed push request: protobuf: stream 0: length prefix exceeds the input (5 > 3 bytes)",
		},
		{
			name:     "bad snappy",
			req:      httpRequest([]byte("\x20not snappy at all"), push.ContentTypeProtobuf, ""),
			sentinel: push.ErrMalformed,
			want:     "malformed push request: snappy: s2: corrupt input",
		},
		{
			name:     "gzip bomb",
			req:      httpRequest(gzipBomb(t, 16<<20), push.ContentTypeJSON, "gzip"),
			sentinel: push.ErrTooLarge,
			want:     "push request decompressed body too large: more than the limit of 1048576 bytes",
		},
		{
			name:     "snappy length header bomb",
			req:      httpRequest([]byte{0x80, 0x80, 0x80, 0x80, 0x08, 0x00}, push.ContentTypeProtobuf, ""),
			sentinel: push.ErrTooLarge,
			want:     "push request decompressed body too large: 2147483648 bytes, limit 1048576 bytes",
		},
		{
			name:     "wrong content type",
			req:      httpRequest([]byte("hello"), "text/plain; charset=utf-8", ""),
			sentinel: push.ErrUnsupportedMediaType,
			want:     `unsupported Content-Type "text/plain; charset=utf-8": use application/x-protobuf (snappy-compressed) or application/json`,
		},
		{
			name: "invalid label name",
			req: httpRequest(protoBody(
				stream(`{foo-bar="x"}`, entry(nowNS, "lost 1"), entry(nowNS, "lost 2")),
				stream(`{app="ok"}`, entry(nowNS, "kept")),
			), push.ContentTypeProtobuf, ""),
			sentinel:  ErrInvalid,
			want:      `Error parsing labels '{foo-bar="x"}' with error: 1: invalid label name "foo-bar" (stream 0, all its entries)`,
			wantLines: []string{`{app="ok"} kept`},
		},
		{
			name: "unparsable labels",
			req: httpRequest(protoBody(
				stream(`app="api"`, entry(nowNS, "lost")),
				stream(`{app="ok", env="prod"`, entry(nowNS, "lost")),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrInvalid,
			want: `Error parsing labels 'app="api"' with error: 0: expected '{' (stream 0, all its entries)` + "\n" +
				`Error parsing labels '{app="ok", env="prod"' with error: 21: missing closing '}' (stream 1, all its entries)`,
		},
		{
			name: "duplicate label",
			req: httpRequest(protoBody(
				stream(`{app="a", env="x", app="b"}`, entry(nowNS, "lost")),
				stream(`{env="x", app="a"}`, entry(nowNS, "kept, labels sorted")),
			), push.ContentTypeProtobuf, ""),
			sentinel:  ErrInvalid,
			want:      `stream '{app="a", env="x", app="b"}' has duplicate label name: 'app' (stream 0, all its entries)`,
			wantLines: []string{`{app="a", env="x"} kept, labels sorted`},
		},
		{
			name: "missing labels",
			req: httpRequest(protoBody(
				stream(`{}`, entry(nowNS, "lost")),
				stream(`{app=""}`, entry(nowNS, "lost too")),
				stream(`{app="a", empty=""}`, entry(nowNS, "kept, empty value dropped")),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrInvalid,
			want: "error at least one label pair is required per stream (stream 0, all its entries)\n" +
				"error at least one label pair is required per stream (stream 1, all its entries)",
			wantLines: []string{`{app="a"} kept, empty value dropped`},
		},
		{
			name: "empty stream",
			req: httpRequest(protoBody(
				stream(`{app="empty"}`),
				stream(`{app="ok"}`, entry(nowNS, "kept")),
			), push.ContentTypeProtobuf, ""),
			sentinel:  ErrInvalid,
			want:      `stream '{app="empty"}' has no entries (stream 0)`,
			wantLines: []string{`{app="ok"} kept`},
		},
		{
			name: "line over the limit",
			req: httpRequest(protoBody(
				stream(`{app="a"}`, entry(nowNS, "before"), entry(nowNS, long), entry(nowNS, "after")),
			), push.ContentTypeProtobuf, ""),
			sentinel:  ErrInvalid,
			want:      `Max entry size '262144' bytes exceeded for stream '{app="a"}' while adding an entry with length '262145' bytes (stream 0, entry 1)`,
			wantLines: []string{`{app="a"} before`, `{app="a"} after`},
		},
		{
			name:      "line over the limit is truncated for a tenant that asks",
			tenant:    "truncating",
			req:       httpRequest(protoBody(stream(`{app="a"}`, entry(nowNS, "0123456789abc"))), push.ContentTypeProtobuf, ""),
			wantLines: []string{`{app="a"} 01234567`},
		},
		{
			name: "timestamps too old and too new",
			req: httpRequest(protoBody(
				stream(`{app="a", env="prod"}`,
					entry(nowNS-169*hour, "too old"),
					entry(nowNS-167*hour, "old but fine"),
					entry(nowNS+9*int64(time.Minute), "a little ahead"),
					entry(nowNS+11*int64(time.Minute), "too new"),
				),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrInvalid,
			want: "entry for stream '{app=\"a\", env=\"prod\"}' has timestamp too old: 2024-04-24T11:00:00Z, oldest acceptable timestamp is: 2024-04-24T12:00:00Z (stream 0, entry 0)\n" +
				"entry for stream '{app=\"a\", env=\"prod\"}' has timestamp too new: 2024-05-01T12:11:00Z (stream 0, entry 3, limit 2024-05-01T12:10:00Z)",
			wantLines: []string{`{app="a", env="prod"} old but fine`, `{app="a", env="prod"} a little ahead`},
		},
		{
			name: "label count and lengths",
			req: httpRequest(protoBody(
				stream(`{a="1",b="1",c="1",d="1",e="1",f="1",g="1",h="1",i="1",j="1",k="1",l="1",m="1",n="1",o="1",p="1"}`, entry(nowNS, "lost")),
				stream(`{`+strings.Repeat("n", 1025)+`="v"}`, entry(nowNS, "lost")),
				stream(`{app="`+strings.Repeat("v", 2049)+`"}`, entry(nowNS, "lost")),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrInvalid,
			want: `entry for stream '{a="1",b="1",c="1",d="1",e="1",f="1",g="1",h="1",i="1",j="1",k="1",l="1",m="1",n="1",o="1",p="1"}' has 16 label names; limit 15 (stream 0, all its entries)` + "\n" +
				`stream '{` + strings.Repeat("n", 255) + `...(truncated)' has label name too long: '` + strings.Repeat("n", 256) + `...(truncated)' (stream 1, all its entries, limit 1024 bytes)` + "\n" +
				`stream '{app="` + strings.Repeat("v", 250) + `...(truncated)' has label value too long: '` + strings.Repeat("v", 256) + `...(truncated)' (stream 2, all its entries, limit 2048 bytes)`,
		},
		{
			name: "structured metadata limits",
			req: httpRequest(protoBody(
				stream(`{app="a"}`,
					entry(nowNS, "too large", "k", strings.Repeat("v", 64<<10)),
					entry(nowNS, "too many", slices.Repeat([]string{"k", "v"}, 129)...),
					entry(nowNS, "kept", "trace_id", "abc", "a", "1", "trace_id", "def"),
				),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrInvalid,
			want: "stream '{app=\"a\"}' has structured metadata too large: '65537' bytes, limit: '65536' bytes. Please see `limits_config.max_structured_metadata_size` or contact your Loki administrator to increase it. (stream 0, entry 0)\n" +
				"stream '{app=\"a\"}' has too many structured metadata labels: '129', limit: '128'. Please see `limits_config.max_structured_metadata_entries_count` or contact your Loki administrator to increase it. (stream 0, entry 1)",
			wantLines: []string{`{app="a"} kept`},
		},
		{
			name: "many problems are cut short",
			req: httpRequest(protoBody(
				stream(`{app="a"}`, slices.Repeat([]push.Entry{entry(1, "ancient")}, 25)...),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrInvalid,
			want: strings.Repeat("entry for stream '{app=\"a\"}' has timestamp too old: 1970-01-01T00:00:00Z, oldest acceptable timestamp is: 2024-04-24T12:00:00Z (stream 0, entry N)\n", 10) +
				"and 15 more",
		},
		{
			name: "json with invalid entries",
			req: httpRequest([]byte(`{"streams":[{"stream":{"app":"j"},"values":[["`+fmt.Sprint(nowNS)+`","kept"],["1","lost"]]},`+
				`{"stream":{"bad-name":"x"},"values":[["`+fmt.Sprint(nowNS)+`","lost"]]}]}`), push.ContentTypeJSON, ""),
			sentinel: ErrInvalid,
			want: "entry for stream '{app=\"j\"}' has timestamp too old: 1970-01-01T00:00:00Z, oldest acceptable timestamp is: 2024-04-24T12:00:00Z (stream 0, entry 1)\n" +
				`Error parsing labels '{bad-name="x"}' with error: 1: invalid label name "bad-name" (stream 1, all its entries)`,
			wantLines: []string{`{app="j"} kept`},
		},
		{
			name: "rate limited: nothing is written",
			req: httpRequest(protoBody(
				stream(`{app="a"}`, entry(nowNS, strings.Repeat("x", 200<<10)), entry(nowNS, strings.Repeat("y", 200<<10))),
			), push.ContentTypeProtobuf, ""),
			sentinel: ErrRateLimited,
			want:     "Ingestion rate limit exceeded for user fake (limit: 1048576 bytes/sec) while attempting to ingest '2' lines totaling '409600' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePusher{}
			d := newTestDistributor(t, p, nil)
			tenant := tt.tenant
			if tenant == "" {
				tenant = "fake"
			}
			if tt.name == "rate limited: nothing is written" {
				// Use up the 1 MiB burst first.
				big := &push.Request{Streams: []push.Stream{stream(`{app="b"}`, slices.Repeat([]push.Entry{entry(nowNS, strings.Repeat("z", 225<<10))}, 4)...)}}
				if err := d.Push(context.Background(), tenant, big); err != nil {
					t.Fatal(err)
				}
				p.streams = nil
			}
			var err error
			req, err := push.DecodeHTTP(tt.req, maxBody)
			if err == nil {
				err = d.Push(context.Background(), tenant, req)
				push.PutRequest(req)
			}
			checkErr(t, err, tt.sentinel, tt.want)
			if got := p.lines(); !slices.Equal(got, tt.wantLines) {
				t.Errorf("pushed lines\n got %q\nwant %q", got, tt.wantLines)
			}
		})
	}
}

func checkErr(t *testing.T, err, sentinel error, want string) {
	t.Helper()
	if sentinel == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v is not %v", err, sentinel)
	}
	got := err.Error()
	if strings.Contains(want, "entry N)") { // repeated problems: entry indexes vary
		for i := 0; i < 10; i++ {
			got = strings.Replace(got, fmt.Sprintf("entry %d)", i), "entry N)", 1)
		}
	}
	if got != want {
		t.Errorf("error\n got %s\nwant %s", got, want)
	}
}

func TestPushResultAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := &fakePusher{}
	d := newTestDistributor(t, p, reg)
	req := &push.Request{Streams: []push.Stream{
		stream(`{app="a"}`, entry(nowNS, "12345", "k", "vv"), entry(1, "old")),
		stream(`{}`, entry(nowNS, "abc"), entry(nowNS, "de")),
		stream(`{app="b"}`, entry(nowNS, "x")),
	}}
	res, err := d.PushResult(context.Background(), "t1", req)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v, want ErrInvalid", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Total != 2 || ve.Problems[0].Reason != ReasonGreaterThanMaxSampleAge || ve.Problems[1].Reason != ReasonMissingLabels {
		t.Fatalf("validation error %+v", ve)
	}
	if want := (Result{Streams: 2, Entries: 2, Bytes: 5 + 3 + 1, Rejected: 3}); res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if got := p.streams[0].Entries[0].Metadata; !labels.Equal(got, labels.FromStrings("k", "vv")) {
		t.Fatalf("metadata %s", got)
	}
	want := map[string]float64{
		`lode_distributor_lines_received_total{tenant="t1"}`:                             5,
		`lode_distributor_bytes_received_total{tenant="t1"}`:                             5 + 3 + 3 + 3 + 2 + 1,
		`lode_discarded_samples_total{reason="greater_than_max_sample_age",tenant="t1"}`: 1,
		`lode_discarded_bytes_total{reason="greater_than_max_sample_age",tenant="t1"}`:   3,
		`lode_discarded_samples_total{reason="missing_labels",tenant="t1"}`:              2,
		`lode_discarded_bytes_total{reason="missing_labels",tenant="t1"}`:                5,
	}
	got := gather(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// Rate limited: everything valid is counted as discarded.
	big := &push.Request{Streams: []push.Stream{stream(`{app="a"}`, slices.Repeat([]push.Entry{entry(nowNS, strings.Repeat("x", 256<<10))}, 8)...)}}
	if err := d.Push(context.Background(), "t1", big); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("error %v, want ErrRateLimited", err)
	}
	if got := gather(t, reg)[`lode_discarded_bytes_total{reason="rate_limited",tenant="t1"}`]; got != 2<<20 {
		t.Fatalf("rate_limited bytes %v", got)
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestPusherErrorIsWrapped(t *testing.T) {
	boom := errors.New("ingester unavailable")
	d := newTestDistributor(t, &fakePusher{err: boom}, nil)
	req := &push.Request{Streams: []push.Stream{stream(`{app="a"}`, entry(nowNS, "x"))}}
	res, err := d.PushResult(context.Background(), "t", req)
	if !errors.Is(err, boom) || errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not wrap the pusher's only", err)
	}
	if err.Error() != "push 1 entries of 1 streams: ingester unavailable" {
		t.Fatalf("error %q", err)
	}
	if res.Entries != 0 {
		t.Fatalf("result %+v counts entries as written", res)
	}
}

func TestLabelsAreCanonicalAndOwned(t *testing.T) {
	p := &fakePusher{}
	d := newTestDistributor(t, p, nil)
	body := protoBody(
		stream(`{ env = 'prod', app="api" }`, entry(nowNS, "one")),
		stream(`{app="api",env="prod"}`, entry(nowNS, "two")),
	)
	req, err := push.DecodeHTTP(httpRequest(body, "", ""), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Push(context.Background(), "t", req); err != nil {
		t.Fatal(err)
	}
	push.PutRequest(req)
	// Reuse the pooled request buffers with other content.
	other, err := push.DecodeHTTP(httpRequest(protoBody(stream(`{zzz="yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"}`, entry(nowNS, "three"))), "", ""), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer push.PutRequest(other)
	want := labels.FromStrings("app", "api", "env", "prod")
	for _, s := range p.streams {
		if !labels.Equal(s.Labels, want) || s.Fingerprint != model.StreamFingerprint("t", want) {
			t.Fatalf("stream labels %s fingerprint %x", s.Labels, s.Fingerprint)
		}
	}
}

func TestConcurrentPushes(t *testing.T) {
	p := &fakePusher{}
	d := newTestDistributor(t, p, nil)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				req := &push.Request{Streams: []push.Stream{stream(fmt.Sprintf(`{g="%d"}`, g), entry(nowNS, fmt.Sprint(i)), entry(1, "old"))}}
				if err := d.Push(context.Background(), "t", req); !errors.Is(err, ErrInvalid) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := len(p.lines()); got != 200 {
		t.Fatalf("%d lines pushed, want 200", got)
	}
}

func TestNewRequiresDeps(t *testing.T) {
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("", flag.PanicOnError))
	if _, err := New(cfg, Deps{}); err == nil {
		t.Fatal("New without Pusher and Limits succeeded")
	}
	cfg.MaxRecvMsgSize = 0
	if _, err := New(cfg, Deps{Pusher: &fakePusher{}, Limits: testLimits(t, nil)}); err == nil {
		t.Fatal("New with an invalid config succeeded")
	}
}

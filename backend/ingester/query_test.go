package ingester

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// queryFixture pushes three streams whose entries end up in cut chunks,
// blocks of open chunks and heads (small block and chunk sizes), and
// returns everything pushed.
func queryFixture(t *testing.T) (*env, []model.Stream) {
	cfg := testConfig()
	cfg.BlockSize = 1 << 10
	cfg.ChunkTargetSize = 1 << 10 // a chunk per block or two
	e := newEnv(t, cfg)
	var all []model.Stream
	specs := []string{`app=api,env=prod`, `app=web,env=prod`, `app=api,env=dev`}
	for batch := 0; batch < 20; batch++ {
		var req []model.Stream
		for k, spec := range specs {
			var es []model.Entry
			for n := 0; n < 10; n++ {
				ts := t0 + int64(batch*10+n)*int64(time.Second) + int64(k)
				line := fmt.Sprintf("stream %d batch %d entry %d status=%d", k, batch, n, 200+n%3)
				if batch == 7 && n == 3 {
					line += " needle-XYZZY-token"
				}
				en := ent(ts, line)
				if n%4 == 0 {
					en.Metadata = labels.FromStrings("trace_id", fmt.Sprintf("t%d", n))
				}
				es = append(es, en)
			}
			// A repeated timestamp with a different line.
			es = append(es, ent(es[len(es)-1].Timestamp, fmt.Sprintf("stream %d batch %d same-ts", k, batch)))
			req = append(req, mkStream(spec, es...))
		}
		e.push(req...)
		all = append(all, req...)
	}
	if e.metric("lode_ingester_chunks_cut_total") == 0 || e.metric("lode_ingester_blocks_cut_total") == 0 {
		t.Fatal("fixture should cut blocks and chunks")
	}
	return e, all
}

func TestPushQuery(t *testing.T) {
	e, pushed := queryFixture(t)
	all := flatten(pushed)
	apiProd := func() []model.StreamEntry {
		var out []model.StreamEntry
		for _, se := range all {
			if se.Labels.Get("app") == "api" && se.Labels.Get("env") == "prod" {
				out = append(out, se)
			}
		}
		return out
	}()
	within := func(es []model.StreamEntry, from, to int64) []model.StreamEntry {
		var out []model.StreamEntry
		for _, se := range es {
			if se.Timestamp >= from && se.Timestamp < to {
				out = append(out, se)
			}
		}
		return out
	}
	from, to := t0+35*int64(time.Second), t0+120*int64(time.Second)
	cases := []struct {
		name string
		sel  model.LogSelect
		want []model.StreamEntry
	}{
		{"forward all", model.LogSelect{Direction: model.Forward}, sortEntries(all, model.Forward)},
		{"backward all", model.LogSelect{Direction: model.Backward}, sortEntries(all, model.Backward)},
		{"forward limit", model.LogSelect{Direction: model.Forward, Limit: 7}, sortEntries(all, model.Forward)[:7]},
		{"backward limit", model.LogSelect{Direction: model.Backward, Limit: 25}, sortEntries(all, model.Backward)[:25]},
		{"time bounds forward", model.LogSelect{Direction: model.Forward, Start: from, End: to}, sortEntries(within(all, from, to), model.Forward)},
		{"time bounds backward", model.LogSelect{Direction: model.Backward, Start: from, End: to}, sortEntries(within(all, from, to), model.Backward)},
		{"matchers", model.LogSelect{Direction: model.Forward, Matchers: []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, "app", "api"),
			labels.MustNewMatcher(labels.MatchRegexp, "env", "pr.*"),
		}}, sortEntries(apiProd, model.Forward)},
		{"other tenant", model.LogSelect{Tenant: "team-b", Direction: model.Forward}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameEntries(t, e.query(c.sel), c.want)
		})
	}
}

func TestQueryNeedlesAndTimestampsOnly(t *testing.T) {
	e, pushed := queryFixture(t)
	all := flatten(pushed)
	needle := []byte("needle-XYZZY-token")
	got := e.query(model.LogSelect{Direction: model.Forward, Needles: [][]byte{needle}})
	var hits int
	for _, se := range got {
		if bytes.Contains(se.Line, needle) {
			hits++
		}
	}
	if hits != 3 {
		t.Fatalf("needle lines returned: %d, want 3", hits)
	}
	if len(got) >= len(all) {
		t.Fatalf("needle query returned %d of %d entries: no block was skipped", len(got), len(all))
	}

	ts := e.query(model.LogSelect{Direction: model.Backward, TimestampsOnly: true})
	// Without lines, entries of one stream sharing a timestamp look
	// identical to iter.MergeEntries, which keeps one of them: expect the
	// distinct (stream, timestamp) pairs.
	var want []model.StreamEntry
	for _, se := range sortEntries(all, model.Backward) {
		if n := len(want); n > 0 && want[n-1].Timestamp == se.Timestamp && want[n-1].Fingerprint == se.Fingerprint {
			continue
		}
		want = append(want, se)
	}
	if len(ts) != len(want) {
		t.Fatalf("timestamps-only: got %d entries, want %d", len(ts), len(want))
	}
	for k := range ts {
		if ts[k].Timestamp != want[k].Timestamp || ts[k].Fingerprint != want[k].Fingerprint || ts[k].Line != nil {
			t.Fatalf("timestamps-only entry %d: got %d %x %q, want %d %x and no line", k,
				ts[k].Timestamp, ts[k].Fingerprint, ts[k].Line, want[k].Timestamp, want[k].Fingerprint)
		}
	}
}

func TestSeriesAndLabels(t *testing.T) {
	e, _ := queryFixture(t)
	ctx := context.Background()
	end := t0 + int64(time.Hour)
	series, err := e.ing.Series(ctx, testTenant, t0, end, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "api")})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 {
		t.Fatalf("series: got %d, want 2", len(series))
	}
	if series[0].Fingerprint > series[1].Fingerprint {
		t.Fatal("series not sorted by fingerprint")
	}
	cases := []struct {
		name     string
		from, to int64
		ms       []*labels.Matcher
		names    string
		envs     string
	}{
		{"all", t0, end, nil, "[app env]", "[dev prod]"},
		{"matcher", t0, end, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "web")}, "[app env]", "[prod]"},
		{"before data", t0 - int64(time.Hour), t0 - 1, nil, "[]", "[]"},
		{"after data", end, end + 1, nil, "[]", "[]"},
		{"other tenant", t0, end, nil, "[]", "[]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tenant := testTenant
			if c.name == "other tenant" {
				tenant = "nobody"
			}
			names, err := e.ing.LabelNames(ctx, tenant, c.from, c.to, c.ms)
			if err != nil {
				t.Fatal(err)
			}
			values, err := e.ing.LabelValues(ctx, tenant, "env", c.from, c.to, c.ms)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(names) != c.names || fmt.Sprint(values) != c.envs {
				t.Fatalf("names %v values %v, want %s %s", names, values, c.names, c.envs)
			}
		})
	}
}

// TestQueryStreams checks that QueryStreams holds what Query does, one
// stream per iterator, each ordered and with repeats once.
func TestQueryStreams(t *testing.T) {
	e, pushed := queryFixture(t)
	// Repeats of entries already in heads and blocks.
	e.push(pushed[0], pushed[len(pushed)-1])
	for _, dir := range []model.Direction{model.Forward, model.Backward} {
		for _, sel := range []model.LogSelect{
			{Tenant: testTenant, Start: 0, End: 1<<63 - 1, Direction: dir},
			{Tenant: testTenant, Start: t0 + 35*int64(time.Second), End: t0 + 120*int64(time.Second), Direction: dir,
				Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "env", "prod")}},
		} {
			t.Run(fmt.Sprintf("%v/%d", dir, len(sel.Matchers)), func(t *testing.T) {
				want := e.query(sel)
				streams, err := e.ing.QueryStreams(context.Background(), sel)
				if err != nil {
					t.Fatal(err)
				}
				var got []model.StreamEntry
				seen := map[model.Fingerprint]bool{}
				for streams.Next() {
					it := streams.At()
					var one []model.StreamEntry
					for it.Next() {
						se := it.At()
						se.Entry = se.Entry.Clone()
						one = append(one, se)
					}
					if err := it.Err(); err != nil {
						t.Fatal(err)
					}
					if len(one) == 0 {
						continue
					}
					if seen[one[0].Fingerprint] {
						t.Fatalf("stream %v twice", one[0].Labels)
					}
					seen[one[0].Fingerprint] = true
					for _, se := range one {
						if se.Fingerprint != one[0].Fingerprint {
							t.Fatalf("two streams in one iterator: %v and %v", one[0].Labels, se.Labels)
						}
					}
					sameEntries(t, one, sortEntries(one, dir))
					got = append(got, one...)
				}
				if err := streams.Close(); err != nil {
					t.Fatal(err)
				}
				sameEntries(t, sortEntries(got, dir), want)
			})
		}
	}
}

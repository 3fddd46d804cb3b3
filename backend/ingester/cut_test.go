package ingester

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lode-logs/lode/backend/model"
)

func TestDuplicatesDropped(t *testing.T) {
	batch := func(from, n int) []model.Entry {
		var es []model.Entry
		for k := from; k < from+n; k++ {
			es = append(es, ent(t0+int64(k)*int64(time.Second), fmt.Sprintf("GET /api/items/%d 200 %dms", k, k%50)))
		}
		return es
	}
	cases := []struct {
		name      string
		blockSize int
		pushes    [][]model.Entry
		wantDups  float64
		want      []model.Entry
	}{
		{"retry of the same push", 64 << 10,
			[][]model.Entry{batch(0, 50), batch(0, 50)}, 50, batch(0, 50)},
		{"retry overlapping new entries", 64 << 10,
			[][]model.Entry{batch(0, 50), batch(40, 20)}, 10, batch(0, 60)},
		{"retry after the head became a block", 1 << 10,
			[][]model.Entry{batch(0, 50), batch(0, 50)}, 50, batch(0, 50)},
		{"same timestamp, other line is kept", 64 << 10,
			[][]model.Entry{{ent(t0, "a")}, {ent(t0, "b")}, {ent(t0, "a")}}, 1, []model.Entry{ent(t0, "a"), ent(t0, "b")}},
		{"duplicate inside one push", 64 << 10,
			[][]model.Entry{{ent(t0, "a"), ent(t0, "a"), ent(t0+1, "b")}}, 0, []model.Entry{ent(t0, "a"), ent(t0+1, "b")}},
		// Two blocks later the dedup set has forgotten the entries; the
		// block encoder and the query merge still return each once.
		{"retry two blocks later", 1 << 10,
			[][]model.Entry{batch(0, 30), batch(30, 30), batch(60, 30), batch(0, 30)}, 0, batch(0, 90)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.BlockSize = c.blockSize
			e := newEnv(t, cfg)
			for _, p := range c.pushes {
				e.push(mkStream("app=api", p...))
			}
			if got := e.metric("lode_ingester_duplicate_entries_total"); got != c.wantDups {
				t.Fatalf("duplicates counted: %v, want %v", got, c.wantDups)
			}
			want := sortEntries(flatten([]model.Stream{mkStream("app=api", c.want...)}), model.Forward)
			sameEntries(t, e.query(model.LogSelect{Direction: model.Forward}), want)
			sameEntries(t, e.query(model.LogSelect{Direction: model.Backward}), sortEntries(want, model.Backward))
			if err := e.ing.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := sortEntries(e.bucketEntries(), model.Forward)
			if c.name == "retry two blocks later" {
				// The flushed chunk holds the late copies in another block;
				// the querier de-duplicates them like the ingester does.
				got = slices.CompactFunc(got, func(a, b model.StreamEntry) bool {
					return a.Timestamp == b.Timestamp && string(a.Line) == string(b.Line)
				})
			}
			sameEntries(t, got, want)
		})
	}
}

func TestCutBySize(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize = 1 << 10
	cfg.ChunkTargetSize = 4 << 10
	e := newEnv(t, cfg)
	pushed := mixedPushes(e, 50, 2, 20, 0)
	if e.metric("lode_ingester_chunks_cut_total") == 0 {
		t.Fatal("no chunk was cut by size")
	}
	e.ing.queue.mu.Lock()
	for _, c := range e.ing.queue.items {
		if c.size < int64(cfg.ChunkTargetSize) {
			t.Errorf("chunk cut at %d bytes, below the target %d", c.size, cfg.ChunkTargetSize)
		}
	}
	e.ing.queue.mu.Unlock()
	if err := e.ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))
}

// agePushes pushes entries every 10 minutes over 4 hours, 4 per push plus
// a late one, so that pushes straddle the hour windows.
func agePushes(e *env, restartAfter int) []model.Stream {
	var pushed []model.Stream
	k := 0
	for p := 0; p < 6; p++ {
		var es []model.Entry
		for n := 0; n < 4; n++ {
			es = append(es, ent(t0+int64(k)*int64(10*time.Minute), fmt.Sprintf("tick %d %s", k, strings.Repeat("padding ", 20))))
			k++
		}
		// A late entry, older than the window the stream is in.
		es = append(es, ent(t0+int64(k-4)*int64(10*time.Minute)-int64(time.Hour), fmt.Sprintf("late %d", k)))
		s := mkStream("app=cron", es...)
		e.push(s)
		pushed = append(pushed, s)
		if p == restartAfter {
			e.reopen()
		}
	}
	return pushed
}

func TestCutByAgeAlignsWindows(t *testing.T) {
	cfg := testConfig()
	cfg.MaxChunkAge = time.Hour
	e := newEnv(t, cfg)
	pushed := agePushes(e, -1)
	if got := e.metric("lode_ingester_chunks_cut_total"); got != 3 {
		t.Fatalf("chunks cut by age: %v, want 3", got)
	}
	if err := e.ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	refs := e.index.refs()
	if len(refs) != 4 {
		t.Fatalf("chunks flushed: %d, want 4 (one per hour window)", len(refs))
	}
	for _, r := range refs {
		// Regular entries stay in their window; late ones may precede it.
		if alignDown(r.Through, int64(time.Hour)) < alignDown(r.From, int64(time.Hour)) {
			t.Errorf("chunk %s spans [%d, %d]", r.Key, r.From, r.Through)
		}
	}
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))
	for _, p := range []byte{prefixWAL, prefixBlockMeta, prefixBlockData, prefixCut} {
		if n := e.countKeys(p); n != 0 {
			t.Errorf("%d keys with prefix %#x left after flush", n, p)
		}
	}
}

// TestReplicasCutIdentically checks that two ingesters fed the same pushes
// (one of them restarted in between) produce byte-identical chunks.
func TestReplicasCutIdentically(t *testing.T) {
	cfg := testConfig()
	cfg.MaxChunkAge = time.Hour
	cfg.BlockSize = 1 << 10
	keys := func(restartAfter int) []string {
		e := newEnv(t, cfg)
		agePushes(e, restartAfter)
		if n := e.metric("lode_ingester_blocks_cut_total"); restartAfter < 0 && n < 4 {
			t.Fatalf("%v blocks cut: the test wants chunks of several blocks", n)
		}
		if err := e.ing.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, r := range e.index.refs() {
			ks = append(ks, r.Key)
		}
		slices.Sort(ks)
		return ks
	}
	a, b := keys(-1), keys(1)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("replicas flushed different chunks:\n%v\n%v", a, b)
	}
}

func TestCutByIdle(t *testing.T) {
	cfg := testConfig()
	e := newEnv(t, cfg)
	ctx := context.Background()
	e.push(mkStream("app=quiet", ent(t0, "one")), mkStream("app=busy", ent(t0, "one")))
	e.clock.Advance(cfg.ChunkIdlePeriod - time.Minute)
	e.push(mkStream("app=busy", ent(t0+1, "two")))
	e.clock.Advance(2 * time.Minute)
	e.ing.sweep(ctx)
	if got := e.metric("lode_ingester_chunks_cut_total"); got != 1 {
		t.Fatalf("chunks cut: %v, want 1 (the quiet stream)", got)
	}
	if err := e.ing.flushDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	refs := e.index.refs()
	if len(refs) != 1 || refs[0].Entries != 1 {
		t.Fatalf("flushed refs: %+v, want the quiet stream's chunk", refs)
	}
	// One more idle period: the busy stream is cut, and the quiet one,
	// now empty, leaves memory and Badger.
	e.clock.Advance(cfg.ChunkIdlePeriod)
	e.ing.sweep(ctx)
	if n := e.ing.streams.len(); n != 1 {
		t.Fatalf("streams in memory: %d, want 1", n)
	}
	if n := e.countKeys(prefixStream); n != 1 {
		t.Fatalf("stream records in Badger: %d, want 1", n)
	}
	if err := e.ing.flushDue(ctx, false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(cfg.ChunkIdlePeriod)
	e.ing.sweep(ctx)
	if n, k := e.ing.streams.len(), e.countKeys(prefixStream); n != 0 || k != 0 {
		t.Fatalf("after everything went idle: %d streams, %d stream records", n, k)
	}
	// A stream that comes back starts afresh.
	e.push(mkStream("app=quiet", ent(t0+2, "back")))
	if got := e.query(model.LogSelect{Direction: model.Forward}); len(got) != 1 || string(got[0].Line) != "back" {
		t.Fatalf("query after return: %v", got)
	}
}

// TestSealedHeadCutByChunk holds a push between sealing a full head and
// encoding it, and meanwhile queries, pushes to the same stream, and cuts
// the chunk (which commits the sealed head itself): every entry must be
// visible throughout, flushed once, and nothing must be left in Badger
// once the held push finishes.
func TestSealedHeadCutByChunk(t *testing.T) {
	cfg := testConfig()
	cfg.BlockSize = 1 << 10
	e := newEnv(t, cfg)
	sealed, release := make(chan struct{}), make(chan struct{})
	var released sync.Once
	t.Cleanup(func() { released.Do(func() { close(release) }) }) // before the env's Close
	var once bool
	e.ing.afterSeal = func() {
		if !once {
			once = true
			close(sealed)
			<-release
		}
	}
	var pushed []model.Stream
	batch := func(from, n int) model.Stream {
		var es []model.Entry
		for k := from; k < from+n; k++ {
			es = append(es, ent(t0+int64(k)*int64(time.Millisecond), fmt.Sprintf("level=info msg=\"request %d\" duration=%dms", k, k%97)))
		}
		st := mkStream("app=api", es...)
		pushed = append(pushed, st)
		return st
	}
	first := batch(0, 40) // over 1 KiB: the push seals the head
	held := make(chan error, 1)
	go func() { held <- e.ing.Push(context.Background(), testTenant, []model.Stream{first}) }()
	<-sealed

	check := func(when string, want []model.Stream) {
		t.Helper()
		got := e.query(model.LogSelect{Direction: model.Forward})
		if w := sortEntries(flatten(want), model.Forward); !slices.EqualFunc(got, w, func(a, b model.StreamEntry) bool {
			return a.Timestamp == b.Timestamp && string(a.Line) == string(b.Line)
		}) {
			t.Fatalf("%s: query returned %d entries, want %d", when, len(got), len(w))
		}
	}
	check("sealed head pending", pushed)
	e.push(batch(40, 40)) // fills the new head; its seal waits for the pending one
	e.push(batch(10, 5))  // duplicates of the sealed head: dropped
	pushed = pushed[:len(pushed)-1]
	check("second head full", pushed)
	if err := e.ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("chunk cut and flushed", nil)
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))
	released.Do(func() { close(release) })
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	last := batch(80, 40)
	e.push(last)
	check("after the held push", []model.Stream{last})
	if err := e.ing.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, sortEntries(e.bucketEntries(), model.Forward), sortEntries(flatten(pushed), model.Forward))
	if n := e.countKeys(prefixWAL); n != 0 {
		t.Errorf("%d WAL records left after the flush", n)
	}
	if d := e.metric("lode_ingester_duplicate_entries_total"); d != 5 {
		t.Errorf("duplicates counted: %v, want 5", d)
	}
	e.reopen()
	if got := e.query(model.LogSelect{}); len(got) != 0 {
		t.Errorf("after restart the ingester holds %d entries, want 0 (all flushed)", len(got))
	}
}

package iter

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/lode-logs/lode/backend/model"
)

func ent(fp model.Fingerprint, ts int64, line string) model.StreamEntry {
	e := model.StreamEntry{Fingerprint: fp, Entry: model.Entry{Timestamp: ts}}
	if line != "-" {
		e.Line = []byte(line)
	}
	return e
}

func render(t *testing.T, it EntryIterator) string {
	t.Helper()
	var out []string
	for it.Next() {
		e := it.At()
		out = append(out, string(rune('a'+int(e.Fingerprint)))+":"+string(rune('0'+e.Timestamp))+":"+string(e.Line))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

func TestMerge(t *testing.T) {
	// Two sources holding overlapping copies of stream 0 (a replica, or a
	// flushed chunk and the ingester) and stream 1 in one of them.
	fwdA := []model.StreamEntry{ent(0, 1, "x"), ent(0, 2, "y"), ent(1, 2, "z"), ent(0, 4, "w")}
	fwdB := []model.StreamEntry{ent(0, 1, "x"), ent(0, 2, "y"), ent(0, 3, "v"), ent(0, 4, "w")}
	// Backward inputs are ordered by EntryLess too: newest first, ties
	// (same timestamp) by fingerprint and line ascending, as sources yield.
	rev := func(s []model.StreamEntry) []model.StreamEntry {
		out := append([]model.StreamEntry(nil), s...)
		sort.SliceStable(out, func(i, j int) bool { return EntryLess(model.Backward, &out[i], &out[j]) })
		return out
	}
	cases := []struct {
		name string
		it   EntryIterator
		want string
	}{
		{"forward dedup", MergeEntries(model.Forward, Slice(fwdA), Slice(fwdB)),
			"a:1:x a:2:y b:2:z a:3:v a:4:w"},
		{"backward dedup", MergeEntries(model.Backward, Slice(rev(fwdA)), Slice(rev(fwdB))),
			"a:4:w a:3:v a:2:y b:2:z a:1:x"},
		{"same timestamp, other line is kept", MergeEntries(model.Forward,
			Slice([]model.StreamEntry{ent(0, 1, "p")}), Slice([]model.StreamEntry{ent(0, 1, "q"), ent(0, 1, "q")})),
			"a:1:p a:1:q"},
		{"single input dedups", MergeEntries(model.Forward, Slice([]model.StreamEntry{ent(0, 1, "p"), ent(0, 1, "p")})),
			"a:1:p"},
		{"timestamps only keeps all", MergeAll(model.Forward,
			Slice([]model.StreamEntry{ent(0, 1, "-"), ent(0, 1, "-")}), Slice([]model.StreamEntry{ent(0, 1, "-")})),
			"a:1: a:1: a:1:"},
		{"limit", Limit(MergeEntries(model.Forward, Slice(fwdA), Slice(fwdB)), 2), "a:1:x a:2:y"},
		{"empty", MergeEntries(model.Forward, Empty[model.StreamEntry](), Empty[model.StreamEntry]()), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := render(t, c.it); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// reuse yields entries whose line buffer is overwritten on every Next, as
// chunk readers do: a merge must not be confused by it.
type reuse struct {
	lines []string
	ts    []int64
	i     int
	buf   []byte
}

func (r *reuse) Next() bool {
	r.i++
	if r.i > len(r.lines) {
		return false
	}
	r.buf = append(r.buf[:0], r.lines[r.i-1]...)
	return true
}
func (r *reuse) At() model.StreamEntry {
	return model.StreamEntry{Entry: model.Entry{Timestamp: r.ts[r.i-1], Line: r.buf}}
}
func (r *reuse) Err() error   { return nil }
func (r *reuse) Close() error { return nil }

func TestMergeWithReusedBuffers(t *testing.T) {
	a := &reuse{lines: []string{"dup", "a2"}, ts: []int64{1, 3}}
	b := &reuse{lines: []string{"dup", "b2"}, ts: []int64{1, 2}}
	if got := render(t, MergeEntries(model.Forward, a, b)); got != "a:1:dup a:2:b2 a:3:a2" {
		t.Fatalf("got %s", got)
	}
}

type failing struct{ Iterator[model.StreamEntry] }

func (failing) Err() error { return errors.New("boom") }

func TestMergeReportsErrors(t *testing.T) {
	it := MergeEntries(model.Forward, Slice([]model.StreamEntry{ent(0, 1, "x")}), failing{Empty[model.StreamEntry]()})
	for it.Next() {
	}
	if it.Err() == nil || it.Err().Error() != "boom" {
		t.Fatalf("error %v", it.Err())
	}
	_, err := Collect(Error[int](errors.New("early")), nil)
	if err == nil {
		t.Fatal("Collect lost the error")
	}
}

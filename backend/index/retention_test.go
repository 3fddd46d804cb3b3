package index

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

func TestDropPeriod(t *testing.T) {
	db := openTestDB(t)
	s := NewStore(db)
	day := PeriodNanos
	// Tenant a: days 10, 11 and 12; one chunk spans 10-11. Tenant "a\x00"
	// (escaped) and tenant b share day 10. Many streams on day 10, so
	// that the drop takes several pages.
	var es []ChunkEntry
	for i := range 3000 {
		es = append(es, entry("a", fmt.Sprintf("a10-%d", i), 10*day+int64(i), 10*day+int64(i)+5, "app", fmt.Sprintf("s%d", i)))
	}
	es = append(es,
		entry("a", "span", 11*day-100, 11*day+100, "app", "span"),
		entry("a", "a11", 11*day+5, 11*day+50, "app", "x"),
		entry("a", "a12", 12*day+5, 12*day+50, "app", "x"),
		entry("a\x00", "z10", 10*day+5, 10*day+50, "app", "x"),
		entry("b", "b10", 10*day+5, 10*day+50, "app", "x"),
	)
	addChunks(t, db, es...)

	got, err := s.TenantPeriods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []TenantPeriod{{"a", 10}, {"a", 11}, {"a", 12}, {"a\x00", 10}, {"b", 10}}
	if !slices.Equal(got, want) {
		t.Fatalf("periods %v, want %v", got, want)
	}

	drop := func(tenant string, p Period) []string {
		t.Helper()
		kv := newTxnKV(db)
		var objs []string
		err := DropPeriod(kv, tenant, p, func(o string) error { objs = append(objs, o); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if err := kv.commit(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(objs)
		return objs
	}
	objs := drop("a", 10)
	if len(objs) != 3000 || slices.Contains(objs, "span") || objs[0] != "a10-0" {
		t.Fatalf("day 10 released %d objects (%v...); want the 3000 that end on day 10", len(objs), objs[:min(3, len(objs))])
	}
	ctx := context.Background()
	if st, _ := s.Streams(ctx, "a", 10*day, 11*day-1, selector(t, `{app=~".+"}`)); len(st) != 0 {
		t.Fatalf("streams of dropped day 10: %v", st)
	}
	if st, _ := s.Streams(ctx, "a", 11*day, 11*day+10, selector(t, `{app="span"}`)); len(st) != 1 {
		t.Fatalf("the chunk spanning into day 11 is gone from day 11: %v", st)
	}
	if refs, _ := s.Chunks(ctx, "b", es[len(es)-1].Ref.Fingerprint, 10*day, 11*day); len(refs) != 1 {
		t.Fatalf("tenant b lost its chunk: %v", refs)
	}
	if refs, _ := s.Chunks(ctx, "a\x00", es[len(es)-2].Ref.Fingerprint, 10*day, 11*day); len(refs) != 1 {
		t.Fatalf("tenant a\\x00 lost its chunk: %v", refs)
	}
	if objs := drop("a", 11); !slices.Equal(objs, []string{"a11", "span"}) {
		t.Fatalf("day 11 released %v, want the spanning chunk and a11", objs)
	}
	if objs := drop("a", 11); len(objs) != 0 {
		t.Fatalf("dropping day 11 again released %v", objs)
	}
	got, err = s.TenantPeriods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []TenantPeriod{{"a", 12}, {"a\x00", 10}, {"b", 10}}; !slices.Equal(got, want) {
		t.Fatalf("periods after drops %v, want %v", got, want)
	}
	if names, _ := s.LabelNames(ctx, "a", 0, 12*day-1, nil); len(names) != 0 {
		t.Fatalf("label names of dropped days: %v", names)
	}
}

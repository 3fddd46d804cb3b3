package index

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestValidateEntry(t *testing.T) {
	day := PeriodNanos
	valid := entry("t1", "t1/chunks/a", 10, 20, "app", "api")
	for _, tc := range []struct {
		name   string
		mutate func(e *ChunkEntry)
		ok     bool
	}{
		{"valid", func(*ChunkEntry) {}, true},
		{"single instant", func(e *ChunkEntry) { e.Ref.Through = e.Ref.From }, true},
		{"spans 8 periods", func(e *ChunkEntry) { e.Ref.From, e.Ref.Through = 0, 8*day-1 }, true},
		{"empty tenant", func(e *ChunkEntry) { e.Ref.Tenant = "" }, false},
		{"empty key", func(e *ChunkEntry) { e.Ref.Key = "" }, false},
		{"inverted range", func(e *ChunkEntry) { e.Ref.From, e.Ref.Through = 21, 20 }, false},
		{"spans 9 periods", func(e *ChunkEntry) { e.Ref.From, e.Ref.Through = 0, 8*day }, false},
		{"no labels", func(e *ChunkEntry) { e.Labels = labels.EmptyLabels() }, false},
		{"empty value", func(e *ChunkEntry) { e.Labels = labels.FromStrings("app", "") }, false},
		{"wrong fingerprint", func(e *ChunkEntry) { e.Ref.Fingerprint++ }, false},
		{"fingerprint of other tenant", func(e *ChunkEntry) { e.Ref.Tenant = "t2" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.mutate(&e)
			err := ValidateEntry(&e)
			if tc.ok && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("error = %v, want ErrInvalidEntry", err)
			}
		})
	}
}

func TestAddChunksRejectsBatchWithInvalidEntry(t *testing.T) {
	db := openTestDB(t)
	bad := entry("t1", "t1/chunks/b", 30, 20, "app", "api")
	kv := newTxnKV(db)
	err := AddChunks(kv, []ChunkEntry{entry("t1", "t1/chunks/a", 10, 20, "app", "api"), bad})
	if !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("AddChunks error = %v, want ErrInvalidEntry", err)
	}
	if kv.sets != 0 {
		t.Fatalf("AddChunks wrote %d keys before rejecting the batch", kv.sets)
	}
}

func TestAddChunksIdempotent(t *testing.T) {
	day := PeriodNanos
	entries := []ChunkEntry{
		entry("t1", "t1/chunks/a", 10, 20, "app", "api", "env", "prod"),
		entry("t1", "t1/chunks/b", day-5, day+5, "app", "api", "env", "prod"),
		entry("t1", "t1/chunks/c", 10, 20, "app", "web"),
	}
	once := openTestDB(t)
	addChunks(t, once, entries...)
	want := dumpKeys(t, once)

	t.Run("same batch twice", func(t *testing.T) {
		db := openTestDB(t)
		addChunks(t, db, entries...)
		addChunks(t, db, entries...)
		if got := dumpKeys(t, db); !slices.Equal(got, want) {
			t.Fatalf("keys after two applies differ:\n%v\nwant\n%v", got, want)
		}
	})
	t.Run("duplicates inside one batch", func(t *testing.T) {
		db := openTestDB(t)
		addChunks(t, db, append(slices.Clone(entries), entries...)...)
		if got := dumpKeys(t, db); !slices.Equal(got, want) {
			t.Fatalf("keys differ:\n%v\nwant\n%v", got, want)
		}
	})
	t.Run("second apply writes nothing", func(t *testing.T) {
		db := openTestDB(t)
		addChunks(t, db, entries...)
		kv := newTxnKV(db)
		if err := AddChunks(kv, entries); err != nil {
			t.Fatal(err)
		}
		kv.txn.Discard()
		if kv.sets != 0 {
			t.Fatalf("re-adding stored refs wrote %d keys", kv.sets)
		}
	})
	t.Run("ref read back once", func(t *testing.T) {
		db := openTestDB(t)
		addChunks(t, db, entries...)
		addChunks(t, db, entries[1])
		refs, err := NewStore(db).Chunks(context.Background(), "t1", entries[1].Ref.Fingerprint, 0, 2*day)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) != 2 || refs[0].Key != "t1/chunks/a" || refs[1] != entries[1].Ref {
			t.Fatalf("refs = %+v", refs)
		}
	})
}

// An apply cut short (crash, or a KV that committed part of the batch) must
// be completed by applying the same batch again.
func TestAddChunksReapplyAfterPartialApply(t *testing.T) {
	day := PeriodNanos
	entries := []ChunkEntry{
		entry("t1", "t1/chunks/a", 10, 20, "app", "api", "env", "prod", "pod", "p1"),
		entry("t1", "t1/chunks/b", day-5, day+5, "app", "api", "env", "prod", "pod", "p2"),
		entry("t2", "t2/chunks/c", 10, 20, "app", "web"),
	}
	clean := openTestDB(t)
	addChunks(t, clean, entries...)
	want := dumpKeys(t, clean)
	for cut := 1; cut < len(want); cut++ {
		db := openTestDB(t)
		kv := newTxnKV(db)
		kv.failAfter = cut
		if err := AddChunks(kv, entries); !errors.Is(err, errInjected) {
			t.Fatalf("cut %d: AddChunks = %v, want the injected failure", cut, err)
		}
		if err := kv.commit(); err != nil {
			t.Fatal(err)
		}
		ms := selector(t, `{app="api"}`)
		partial, err := NewStore(db).Streams(context.Background(), "t1", 0, 2*day, ms)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range partial {
			if st.Labels.Get("pod") == "" {
				t.Fatalf("cut %d: partly applied stream returned with labels %s", cut, st.Labels)
			}
		}
		addChunks(t, db, entries...)
		if got := dumpKeys(t, db); !slices.Equal(got, want) {
			t.Fatalf("cut %d: keys after re-apply differ:\n%v\nwant\n%v", cut, got, want)
		}
	}
}

// A batch larger than one Badger transaction is written through several.
func TestAddChunksLargeBatch(t *testing.T) {
	db := openTestDB(t)
	var entries []ChunkEntry
	for i := range 20000 {
		entries = append(entries, entry("t1", "t1/chunks/"+itoa(i), 10, 20,
			"app", "app-"+itoa(i%10), "instance", "host-"+itoa(i), "job", "varlogs", "level", "info", "namespace", "ns"))
	}
	kv := newTxnKV(db)
	if err := AddChunks(kv, entries); err != nil {
		t.Fatal(err)
	}
	if err := kv.commit(); err != nil {
		t.Fatal(err)
	}
	if kv.commits == 0 {
		t.Fatal("batch fit in one transaction; the test does not exercise early commits")
	}
	got, err := NewStore(db).Streams(context.Background(), "t1", 0, 100, selector(t, `{job="varlogs"}`))
	if err != nil || len(got) != len(entries) {
		t.Fatalf("Streams = %d streams, %v; want %d", len(got), err, len(entries))
	}
}

package index

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

// MaxChunkPeriods is the largest number of periods one chunk ref may cover
// (it is stored once per period).
const MaxChunkPeriods = 8

// ValidateEntry reports (wrapping ErrInvalidEntry) why e cannot be indexed.
// The Fingerprint must be model.StreamFingerprint(tenant, labels).
func ValidateEntry(e *ChunkEntry) error {
	r := &e.Ref
	switch {
	case r.Tenant == "":
		return fmt.Errorf("%w: empty tenant", ErrInvalidEntry)
	case r.Key == "":
		return fmt.Errorf("%w: empty object key", ErrInvalidEntry)
	case r.From > r.Through:
		return fmt.Errorf("%w: chunk %s: from %d after through %d", ErrInvalidEntry, r.Key, r.From, r.Through)
	case int64(PeriodOf(r.Through))-int64(PeriodOf(r.From)) >= MaxChunkPeriods:
		return fmt.Errorf("%w: chunk %s spans more than %d periods", ErrInvalidEntry, r.Key, MaxChunkPeriods)
	case e.Labels.IsEmpty():
		return fmt.Errorf("%w: chunk %s: no labels", ErrInvalidEntry, r.Key)
	}
	if err := validateLabels(e.Labels); err != nil {
		return fmt.Errorf("%w: chunk %s: %w", ErrInvalidEntry, r.Key, err)
	}
	if fp := model.StreamFingerprint(r.Tenant, e.Labels); fp != r.Fingerprint {
		return fmt.Errorf("%w: chunk %s: fingerprint %016x, labels hash to %016x", ErrInvalidEntry, r.Key, uint64(r.Fingerprint), uint64(fp))
	}
	return nil
}

func validateLabels(ls labels.Labels) error {
	prev := ""
	return ls.Validate(func(l labels.Label) error {
		switch {
		case l.Name == "":
			return fmt.Errorf("empty label name")
		case l.Value == "":
			return fmt.Errorf("label %q has an empty value", l.Name)
		case l.Name <= prev:
			return fmt.Errorf("label %q unsorted or duplicated", l.Name)
		}
		prev = l.Name
		return nil
	})
}

// AddChunks indexes entries through kv: for every period a ref covers, the
// stream's postings and labels (when the stream is new in the period) and
// the chunk ref. It validates all entries before writing anything. Adding
// a ref that is already stored writes nothing.
func AddChunks(kv KV, entries []ChunkEntry) error {
	for i := range entries {
		if err := ValidateEntry(&entries[i]); err != nil {
			return err
		}
	}
	w := chunkWriter{kv: kv}
	for i := range entries {
		e := &entries[i]
		for p := PeriodOf(e.Ref.From); p <= PeriodOf(e.Ref.Through); p++ {
			if err := w.addStream(e, p); err != nil {
				return fmt.Errorf("index stream of chunk %s: %w", e.Ref.Key, err)
			}
			if err := w.addChunk(e, p); err != nil {
				return fmt.Errorf("index chunk %s: %w", e.Ref.Key, err)
			}
		}
	}
	return nil
}

// chunkWriter builds keys in an arena whose bytes are never rewritten once
// handed to the KV.
type chunkWriter struct {
	kv    KV
	arena []byte
}

const arenaSize = 64 << 10

// take returns buf[start:] as a key the KV may keep.
func (w *chunkWriter) take(start int) []byte {
	k := w.arena[start:len(w.arena):len(w.arena)]
	return k
}

// begin makes room for at least n more bytes and returns the start offset.
func (w *chunkWriter) begin(n int) int {
	if cap(w.arena)-len(w.arena) < n {
		w.arena = make([]byte, 0, max(arenaSize, n))
	}
	return len(w.arena)
}

// addStream writes the stream's postings, then its labels key, unless the
// labels key already exists in period p.
func (w *chunkWriter) addStream(e *ChunkEntry, p Period) error {
	r := &e.Ref
	start := w.begin(32 + 2*len(r.Tenant))
	w.arena = streamKey(w.arena, r.Tenant, p, r.Fingerprint)
	sk := w.take(start)
	if ok, err := w.kv.Has(sk); err != nil || ok {
		return err
	}
	var err error
	e.Labels.Range(func(l labels.Label) {
		if err != nil {
			return
		}
		start := w.begin(32 + 2*(len(r.Tenant)+len(l.Name)+len(l.Value)))
		w.arena = postingKey(w.arena, r.Tenant, p, l.Name, l.Value, r.Fingerprint)
		err = w.kv.Set(w.take(start), nil)
	})
	if err != nil {
		return err
	}
	start = w.begin(16 + int(e.Labels.ByteSize()))
	w.arena = appendLabels(w.arena, e.Labels)
	return w.kv.Set(sk, w.take(start))
}

func (w *chunkWriter) addChunk(e *ChunkEntry, p Period) error {
	r := &e.Ref
	start := w.begin(48 + 2*len(r.Tenant) + len(r.Key))
	w.arena = chunkKey(w.arena, p, r)
	ck := w.take(start)
	if ok, err := w.kv.Has(ck); err != nil || ok {
		return err
	}
	start = w.begin(chunkValueLen)
	w.arena = appendChunkValue(w.arena, r)
	return w.kv.Set(ck, w.take(start))
}

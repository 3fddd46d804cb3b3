package objstore

import (
	"context"
	"testing"
)

func TestInstrumentedCountsOutcomes(t *testing.T) {
	b, ok := NewInstrumented(newMemBucket(), nil).(*instrumentedBucket)
	if !ok {
		t.Fatal("NewInstrumented returned an unexpected type")
	}
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_ = b.Put(ctx, "k", []byte("12345"))
	_, _ = b.Get(ctx, "k")
	_, _ = b.Get(ctx, "missing")
	_, _ = b.GetRange(ctx, "k", 1, 2)
	_, _ = b.GetRange(ctx, "k", 9, 1) // invalid range
	_, _ = b.Exists(ctx, "missing")   // false is a success
	_ = b.Delete(ctx, "k")
	_ = b.Iter(ctx, "", func(string) error { return nil })
	failing, _ := NewInstrumented(failingBucket{err: context.Canceled}, nil).(*instrumentedBucket)
	_, _ = failing.Get(canceled, "k")

	cases := []struct {
		op, status string
		b          *instrumentedBucket
		want       float64
	}{
		{"put", statusSuccess, b, 1},
		{"get", statusSuccess, b, 1},
		{"get", statusNotFound, b, 1},
		{"get_range", statusSuccess, b, 1},
		{"get_range", statusError, b, 1},
		{"exists", statusSuccess, b, 1},
		{"delete", statusSuccess, b, 1},
		{"iter", statusSuccess, b, 1},
		{"get", statusCanceled, failing, 1},
		{"put", statusError, b, 0},
	}
	for _, c := range cases {
		t.Run(c.op+"/"+c.status, func(t *testing.T) {
			if got := metricValue(c.b.ops.WithLabelValues(c.op, c.status)); got != c.want {
				t.Fatalf("lode_objstore_operations_total{op=%q,status=%q} = %v, want %v", c.op, c.status, got, c.want)
			}
		})
	}
	bytesCases := []struct {
		op   string
		want float64
	}{{"put", 5}, {"get", 5}, {"get_range", 2}}
	for _, c := range bytesCases {
		if got := metricValue(b.bytes.WithLabelValues(c.op)); got != c.want {
			t.Errorf("lode_objstore_bytes_total{op=%q} = %v, want %v", c.op, got, c.want)
		}
	}
}

// failingBucket fails every call with err.
type failingBucket struct{ err error }

func (f failingBucket) Put(context.Context, string, []byte) error              { return f.err }
func (f failingBucket) Get(context.Context, string) ([]byte, error)            { return nil, f.err }
func (f failingBucket) Exists(context.Context, string) (bool, error)           { return false, f.err }
func (f failingBucket) Delete(context.Context, string) error                   { return f.err }
func (f failingBucket) Iter(context.Context, string, func(string) error) error { return f.err }
func (f failingBucket) GetRange(context.Context, string, int64, int64) ([]byte, error) {
	return nil, f.err
}

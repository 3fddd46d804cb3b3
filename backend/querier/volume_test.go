package querier

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/model"
)

// volumeIndex holds four streams with refs of known sizes (no objects:
// volumes come from the index alone).
func volumeIndex() *fakeIndex {
	idx := &fakeIndex{refs: map[model.Fingerprint][]index.ChunkRef{}}
	add := func(ls labels.Labels, refs ...index.ChunkRef) {
		fp := model.StreamFingerprint(tenant, ls)
		idx.streams = append(idx.streams, index.Stream{Fingerprint: fp, Labels: ls})
		for _, r := range refs {
			r.Tenant, r.Fingerprint = tenant, fp
			idx.refs[fp] = append(idx.refs[fp], r)
		}
	}
	add(labels.FromStrings("job", "foo", "env", "prod", "team", "alpha"), index.ChunkRef{Key: "a", From: 0, Through: 99, Size: 1000})
	add(labels.FromStrings("job", "foo", "env", "dev", "team", "alpha"), index.ChunkRef{Key: "b", From: 100, Through: 199, Size: 300})
	add(labels.FromStrings("job", "bar", "env", "prod", "team", "beta"), index.ChunkRef{Key: "c", From: 0, Through: 199, Size: 50})
	add(labels.FromStrings("job", "foo", "env", "prod"), index.ChunkRef{Key: "d", From: 50, Through: 50, Size: 7},
		index.ChunkRef{Key: "e", From: 150, Through: 150, Size: 5})
	return idx
}

func TestVolumeGroups(t *testing.T) {
	q := New(Config{FetchConcurrency: 1}, volumeIndex(), nil, nil)
	foo := labels.MustNewMatcher(labels.MatchEqual, "job", "foo")
	anyEnv := labels.MustNewMatcher(labels.MatchRegexp, "env", ".+")
	cases := []struct {
		name string
		sel  VolumeSelect
		want map[string]uint64
	}{
		{"by the matchers' labels", VolumeSelect{Matchers: []*labels.Matcher{foo, anyEnv}},
			map[string]uint64{`{env="prod", job="foo"}`: 1012, `{env="dev", job="foo"}`: 300}},
		{"by target labels", VolumeSelect{Matchers: []*labels.Matcher{foo, anyEnv}, TargetLabels: []string{"team"}},
			map[string]uint64{`{team="alpha"}`: 1300, `{}`: 12}},
		{"by label name", VolumeSelect{Matchers: []*labels.Matcher{anyEnv}, TargetLabels: []string{"team", "env"}, ByLabel: true},
			map[string]uint64{`{team=""}`: 1350, `{env=""}`: 1362}},
		{"limited to the largest", VolumeSelect{Matchers: []*labels.Matcher{anyEnv}, TargetLabels: []string{"job"}, Limit: 1},
			map[string]uint64{`{job="foo"}`: 1312}},
		{"within the range", VolumeSelect{Matchers: []*labels.Matcher{foo}, From: 120, Through: 130},
			map[string]uint64{`{job="foo"}`: 300}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.sel.Tenant = tenant
			if c.sel.Through == 0 {
				c.sel.Through = 1000
			}
			vols, err := q.Volume(context.Background(), c.sel)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			for k, v := range vols {
				got[v.Labels.String()] = v.Bytes
				if k > 0 && v.Bytes > vols[k-1].Bytes {
					t.Fatalf("not largest first: %v", vols)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, b := range c.want {
				if got[k] != b {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestVolumeRangeSpreadsChunksOverSteps(t *testing.T) {
	q := New(Config{FetchConcurrency: 1}, volumeIndex(), nil, nil)
	sel := VolumeSelect{Tenant: tenant, From: 0, Through: 200, Step: 50, TargetLabels: []string{"job"},
		Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "job", ".+")}}
	vols, err := q.Volume(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	// Step k covers (50(k-1), 50k]; a spans [0, 99] (1000 bytes, 10 per
	// ns), b [100, 199] (300, 3 per ns), c [0, 199] (50, 1/4 per ns,
	// rounded on the running total); d sits at 50, e at 150.
	want := map[string][]uint64{
		`{job="foo"}`: {10, 500 + 7, 490 + 3, 150 + 5, 147},
		`{job="bar"}`: {0, 13, 12, 13, 12},
	}
	for _, v := range vols {
		w := want[v.Labels.String()]
		if !slices.Equal(v.Steps, w) {
			t.Fatalf("%s: steps %v, want %v", v.Labels, v.Steps, w)
		}
		var sum uint64
		for _, b := range v.Steps {
			sum += b
		}
		if sum != v.Bytes {
			t.Fatalf("%s: steps sum to %d, total %d", v.Labels, sum, v.Bytes)
		}
		if full := map[string]uint64{`{job="foo"}`: 1312, `{job="bar"}`: 50}[v.Labels.String()]; v.Bytes != full {
			t.Fatalf("%s: %d bytes over the steps, want all %d", v.Labels, v.Bytes, full)
		}
	}
	if len(vols) != len(want) {
		t.Fatalf("%d series, want %d", len(vols), len(want))
	}
}

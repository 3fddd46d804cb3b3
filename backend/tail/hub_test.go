package tail

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/model"
)

type pusherFunc func(ctx context.Context, tenant string, streams []model.Stream) error

func (f pusherFunc) Push(ctx context.Context, tenant string, streams []model.Stream) error {
	return f(ctx, tenant, streams)
}

func stream(ls string, lines ...string) model.Stream {
	s := model.Stream{Labels: labels.FromStrings("app", ls)}
	for i, l := range lines {
		s.Entries = append(s.Entries, model.Entry{Timestamp: int64(i), Line: []byte(l)})
	}
	return s
}

func TestHubDeliversMatchingEntriesOfTheTenant(t *testing.T) {
	h := NewHub(pusherFunc(func(context.Context, string, []model.Stream) error { return nil }))
	sub := h.Subscribe("t1", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "api")}, 10)
	defer sub.Close()
	buf := []byte("first")
	s := stream("api")
	s.Entries = []model.Entry{{Timestamp: 1, Line: buf}}
	if err := h.Push(context.Background(), "t1", []model.Stream{s, stream("web", "other app")}); err != nil {
		t.Fatal(err)
	}
	if err := h.Push(context.Background(), "t2", []model.Stream{stream("api", "other tenant")}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXX") // the pusher's buffer is reused: subscribers own copies
	select {
	case e := <-sub.Entries():
		if string(e.Line) != "first" || e.Labels.Get("app") != "api" {
			t.Fatalf("got %q %v", e.Line, e.Labels)
		}
	default:
		t.Fatal("no entry delivered")
	}
	select {
	case e := <-sub.Entries():
		t.Fatalf("unexpected entry %q", e.Line)
	default:
	}
}

func TestHubDropsWhenQueueFullAndSkipsFailedPushes(t *testing.T) {
	fail := errors.New("disk full")
	var err error
	h := NewHub(pusherFunc(func(context.Context, string, []model.Stream) error { return err }))
	sub := h.Subscribe("t", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", ".+")}, 2)
	if e := h.Push(context.Background(), "t", []model.Stream{stream("a", "1", "2", "3", "4")}); e != nil {
		t.Fatal(e)
	}
	if got := sub.Dropped(); got != 2 {
		t.Fatalf("dropped %d, want 2", got)
	}
	<-sub.Entries()
	<-sub.Entries()
	err = fail
	if e := h.Push(context.Background(), "t", []model.Stream{stream("a", "5")}); !errors.Is(e, fail) {
		t.Fatalf("push error %v, want %v", e, fail)
	}
	select {
	case e := <-sub.Entries():
		t.Fatalf("entry of a failed push delivered: %q", e.Line)
	default:
	}
	sub.Close()
	sub.Close()
	if h.count.Load() != 0 {
		t.Fatalf("%d subscriptions left after Close", h.count.Load())
	}
}

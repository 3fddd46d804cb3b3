package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lode-logs/lode/backend/push"
)

// sink is a recording push endpoint whose answers a test controls.
type sink struct {
	srv *httptest.Server

	mu     sync.Mutex          // guards the fields below
	lines  map[string][]string // stream labels -> lines in arrival order
	status int                 // answer to every push when not 0
	reject string              // streams whose labels contain it get a 400
	pushes int
}

func newSink(t *testing.T) *sink {
	s := &sink{lines: map[string][]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) url() string { return s.srv.URL + "/loki/api/v1/push" }

func (s *sink) handle(w http.ResponseWriter, r *http.Request) {
	req, err := push.DecodeHTTP(r, 64<<20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer push.PutRequest(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushes++
	if s.status != 0 {
		http.Error(w, "unavailable", s.status)
		return
	}
	var problems []string
	for i, st := range req.Streams {
		if s.reject != "" && strings.Contains(st.Labels, s.reject) {
			problems = append(problems, fmt.Sprintf("stream %s rejected (stream %d, all its entries)", st.Labels, i))
			continue
		}
		key := strings.Clone(st.Labels) // st.Labels points into the pooled body
		for _, e := range st.Entries {
			s.lines[key] = append(s.lines[key], string(e.Line))
		}
	}
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "\n"), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *sink) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// all returns every line received, of streams whose labels contain sub.
func (s *sink) all(sub string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for l, lines := range s.lines {
		if strings.Contains(l, sub) {
			out = append(out, lines...)
		}
	}
	return out
}

func (s *sink) ids(sub string) map[string]int {
	ids := map[string]int{}
	for _, l := range s.all(sub) {
		id, _, _ := strings.Cut(l, " ")
		ids[id]++
	}
	return ids
}

package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// writer appends numbered lines ("<id> <payload>") to a file at a steady
// rate; rotate and copyTruncate act as logrotate does.
type writer struct {
	path string
	rate int // lines per second

	mu   sync.Mutex // guards f and next
	f    *os.File
	next int
	stop chan struct{}
	done chan struct{}
}

func newWriter(path string, rate int) *writer {
	w := &writer{path: path, rate: rate, stop: make(chan struct{}), done: make(chan struct{})}
	w.open()
	return w
}

func (w *writer) open() {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		panic(err)
	}
	w.f = f
}

var payload = strings.Repeat("x", 80)

// run writes for d (or until stopped) in 10ms steps.
func (w *writer) run(d time.Duration) {
	defer close(w.done)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for time.Since(start) < d {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		want := int(time.Since(start).Seconds() * float64(w.rate))
		w.mu.Lock()
		var b strings.Builder
		for w.next < want {
			fmt.Fprintf(&b, "%d %s\n", w.next, payload)
			w.next++
		}
		_, _ = w.f.WriteString(b.String())
		w.mu.Unlock()
	}
}

func (w *writer) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

// rotate renames the file to suffix and creates a new one (rename+create).
func (w *writer) rotate(suffix string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = os.Rename(w.path, w.path+suffix)
	w.f.Close()
	w.open()
}

// copyTruncate copies the file to suffix and truncates it in place.
func (w *writer) copyTruncate(suffix string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, _ := os.ReadFile(w.path)
	_ = os.WriteFile(w.path+suffix, data, 0o644)
	_ = os.Truncate(w.path, 0)
}

func (w *writer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
}

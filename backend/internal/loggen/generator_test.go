package loggen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// digest hashes n lines of a generator with their streams and timestamps.
func digest(g *Generator, n int) string {
	h := sha256.New()
	var buf []byte
	for range n {
		s, ts, line := g.Next(buf[:0])
		buf = line
		fmt.Fprintf(h, "%d %d %d\n", s, ts, len(line))
		h.Write(line)
	}
	for i := range g.Streams() {
		fmt.Fprintln(h, g.Labels(i).String())
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterminism(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"few streams", Options{Seed: 1, Streams: 3}},
		{"many streams", Options{Seed: 42, Streams: 500}},
		{"needles", Options{Seed: 7, Streams: 50, NeedleEvery: 100}},
		{"slow clock", Options{Seed: 7, Streams: 50, MeanInterval: 1e9, Start: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := digest(NewWithOptions(tc.opts), 20_000)
			b := digest(NewWithOptions(tc.opts), 20_000)
			if a != b {
				t.Fatalf("same options gave different corpora")
			}
			o := tc.opts
			o.Seed++
			if digest(NewWithOptions(o), 20_000) == a {
				t.Fatalf("different seeds gave the same corpus")
			}
		})
	}
}

// TestPinnedCorpus pins the corpus of one seed so that benchmark figures
// stay comparable across changes: update the digest only on purpose.
func TestPinnedCorpus(t *testing.T) {
	const want = "4a7cdbc7153d1fbae90fb86235b8aa4c887607efd587207c07bc53d182fcf5d8"
	if got := digest(New(1, 100), 10_000); got != want {
		t.Fatalf("corpus of seed 1 changed: digest %s, want %s", got, want)
	}
}

func TestLineShape(t *testing.T) {
	g := New(3, 200)
	var buf []byte
	last := int64(0)
	sameTS := 0
	kinds := map[byte]int{}
	for i := range 200_000 {
		s, ts, line := g.Next(buf[:0])
		buf = line
		if s < 0 || s >= g.Streams() {
			t.Fatalf("line %d: stream %d", i, s)
		}
		if ts < last {
			t.Fatalf("line %d: timestamp %d before %d", i, ts, last)
		}
		if ts == last {
			sameTS++
		}
		last = ts
		if len(line) == 0 || line[len(line)-1] == '\n' {
			t.Fatalf("line %d: empty or ends with a newline: %q", i, line)
		}
		kinds[line[0]]++
	}
	if sameTS == 0 {
		t.Fatal("no repeated timestamps: ties are never exercised")
	}
	if len(kinds) < 8 {
		t.Fatalf("too little variety of line starts: %v", kinds)
	}
	seen := map[string]bool{}
	for i := range g.Streams() {
		ls := g.Labels(i)
		for _, name := range []string{"namespace", "app", "pod", "container", "level", "job"} {
			if ls.Get(name) == "" {
				t.Fatalf("stream %d lacks label %s: %v", i, name, ls)
			}
		}
		if seen[ls.String()] {
			t.Fatalf("stream %d duplicates labels %v", i, ls)
		}
		seen[ls.String()] = true
	}
}

func TestNeedles(t *testing.T) {
	const every, lines = 1000, 50_000
	g := NewWithOptions(Options{Seed: 9, Streams: 30, NeedleEvery: every})
	var buf []byte
	k := 0
	for i := 1; i <= lines; i++ {
		_, _, line := g.Next(buf[:0])
		buf = line
		hasToken := bytes.Contains(line, []byte("lodeneedle"))
		if i%every != 0 {
			if hasToken || g.LastNeedle() != nil {
				t.Fatalf("line %d carries a needle: %q", i, line)
			}
			continue
		}
		k++
		tok := NeedleToken(9, k)
		if !bytes.Equal(g.LastNeedle(), tok) || !bytes.Contains(line, tok) {
			t.Fatalf("line %d: needle %q (LastNeedle %q) missing from %q", i, tok, g.LastNeedle(), line)
		}
	}
	if k != lines/every {
		t.Fatalf("%d needles, want %d", k, lines/every)
	}
	if bytes.Equal(NeedleToken(9, 1), NeedleToken(9, 2)) || bytes.Equal(NeedleToken(9, 1), NeedleToken(10, 1)) {
		t.Fatal("needle tokens are not unique")
	}
}

func TestNextAppends(t *testing.T) {
	g := New(5, 10)
	dst := make([]byte, 0, 4096)
	dst = append(dst, "prefix:"...)
	_, _, line := g.Next(dst)
	if len(line) == 0 || len(line) > 4000 {
		t.Fatalf("line of %d bytes", len(line))
	}
	full := dst[:len(dst)+len(line)]
	if string(full[:7]) != "prefix:" || !bytes.Equal(full[7:], line) {
		t.Fatalf("line not appended after dst: %q", full)
	}
}

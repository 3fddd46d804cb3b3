package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEdgeCases: a 1 MB line, invalid UTF-8, CRLF endings, a line over
// the limit split, and a file deleted while tailed (its descriptor is
// released once drained).
func TestEdgeCases(t *testing.T) {
	s := newSink(t)
	dir, logs, port := setup(t)
	big := strings.Repeat("b", 1<<20)
	invalid := "bad \xff\xfe utf8 \xc3"
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(logs, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("big.log", big+"\n")
	write("utf.log", invalid+"\n")
	write("crlf.log", "one\r\ntwo\r\n")
	write("long.log", strings.Repeat("L", 2500)+"\nshort\n")
	write("gone.log", "before delete\n")
	extra := "limits_config:\n  max_line_size: 2MB\n"
	a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", extra))
	if !waitFor(15*time.Second, func() bool { return len(s.all("gone.log")) == 1 && len(s.all("big.log")) == 1 }) {
		t.Fatalf("first lines missing: gone %d big %d\n%s", len(s.all("gone.log")), len(s.all("big.log")), a.log())
	}
	// Delete gone.log after appending to it: the appended line arrives and
	// the agent lets go of the file.
	f, _ := os.OpenFile(filepath.Join(logs, "gone.log"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("after delete\n")
	os.Remove(filepath.Join(logs, "gone.log"))
	f.Close()
	if !waitFor(15*time.Second, func() bool { return len(s.all("gone.log")) == 2 }) {
		t.Fatalf("line appended before deletion missing: %q\n%s", s.all("gone.log"), a.log())
	}
	tests := []struct {
		file string
		want []string
	}{
		{"big.log", []string{big}},
		{"utf.log", []string{invalid}},
		{"crlf.log", []string{"one", "two"}},
		{"gone.log", []string{"before delete", "after delete"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got := s.all(tc.file)
			if len(got) != len(tc.want) {
				t.Fatalf("%d lines, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal([]byte(got[i]), []byte(tc.want[i])) {
					t.Fatalf("line %d differs (len %d, want %d)", i, len(got[i]), len(tc.want[i]))
				}
			}
		})
	}
	// The deleted file's descriptor is closed once drained.
	if !waitFor(10*time.Second, func() bool { return !fdOpen(t, a, "gone.log") }) {
		t.Fatal("deleted file still open")
	}
}

// TestLongLineSplit: a line over max_line_size is split into pieces and
// counted.
func TestLongLineSplit(t *testing.T) {
	s := newSink(t)
	dir, logs, port := setup(t)
	os.WriteFile(filepath.Join(logs, "long.log"), []byte(strings.Repeat("L", 70000)+"\nshort\n"), 0o644)
	a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", "limits_config:\n  max_line_size: 64KiB\n"))
	if !waitFor(15*time.Second, func() bool { return len(s.all("long.log")) == 3 }) {
		t.Fatalf("got %d lines\n%s", len(s.all("long.log")), a.log())
	}
	got := s.all("long.log")
	if len(got[0]) != 64<<10 || len(got[1]) != 70000-64<<10 || got[2] != "short" {
		t.Fatalf("pieces %d %d %q", len(got[0]), len(got[1]), got[2])
	}
	if v := a.metric(port, "lode_agent_long_lines_total", `action="split"`); v != 1 {
		t.Fatalf("long lines metric %v", v)
	}
}

// TestManyFiles: 5,000 files in one directory, one line each.
func TestManyFiles(t *testing.T) {
	s := newSink(t)
	dir, logs, port := setup(t)
	const n = 5000
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(logs, fmt.Sprintf("f%04d.log", i)), []byte(fmt.Sprintf("%d line\n", i)), 0o644)
	}
	a := startAgent(t, dir, agentConfig(port, s.url(), filepath.Join(dir, "positions.yaml"), logs+"/*.log", ""))
	var lost, dup int
	waitFor(30*time.Second, func() bool {
		lost, dup = lossDup(s.ids(".log"), n)
		return lost == 0
	})
	if lost != 0 || dup != 0 {
		t.Fatalf("lost %d, duplicated %d\n%s", lost, dup, a.log())
	}
}

func fdOpen(t *testing.T, a *agent, name string) bool {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", a.cmd.Process.Pid))
	if err != nil {
		return false
	}
	for _, e := range ents {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", a.cmd.Process.Pid, e.Name()))
		if strings.Contains(l, name) {
			return true
		}
	}
	return false
}

package positions

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "positions.yaml")
	in := []Entry{
		{Path: "/b.log", Dev: 1, Inode: 20, Fingerprint: "ab", FingerprintLen: 3, Offset: 99},
		{Path: "/a.log", Dev: 1, Inode: 10, Offset: 5},
	}
	if err := Write(path, in); err != nil {
		t.Fatal(err)
	}
	f, exists, err := Read(path, false)
	if err != nil || !exists {
		t.Fatalf("read: %v %v", exists, err)
	}
	want := []Entry{in[1], in[0]}
	if !reflect.DeepEqual(f.Files, want) {
		t.Fatalf("got %+v, want %+v", f.Files, want)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name          string
		content       string
		ignore        bool
		wantExists    bool
		wantCorrupt   bool
		wantLegacy    map[string]int64
		wantFileCount int
	}{
		{name: "promtail legacy", content: "positions:\n  /var/log/a.log: \"123\"\n", wantExists: true, wantLegacy: map[string]int64{"/var/log/a.log": 123}},
		{name: "corrupt", content: "files: [", wantCorrupt: true},
		{name: "corrupt ignored", content: "files: [", ignore: true},
		{name: "newer version", content: "version: 9\n", wantCorrupt: true},
		{name: "own format", content: "version: 1\nfiles:\n- path: /x\n  dev: 1\n  inode: 2\n  offset: 3\n", wantExists: true, wantFileCount: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.yaml")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, exists, err := Read(path, tc.ignore)
			if tc.wantCorrupt {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil || exists != tc.wantExists {
				t.Fatalf("exists %v err %v", exists, err)
			}
			if tc.wantLegacy != nil && !reflect.DeepEqual(f.Legacy, tc.wantLegacy) {
				t.Fatalf("legacy %v", f.Legacy)
			}
			if len(f.Files) != tc.wantFileCount {
				t.Fatalf("files %v", f.Files)
			}
		})
	}
	if _, exists, err := Read(filepath.Join(t.TempDir(), "missing"), false); exists || err != nil {
		t.Fatalf("missing file: %v %v", exists, err)
	}
}

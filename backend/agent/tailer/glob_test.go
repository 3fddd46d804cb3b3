package tailer

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"/var/log/*.log", "/var/log/a.log", true},
		{"/var/log/*.log", "/var/log/sub/a.log", false},
		{"/var/log/**/*.log", "/var/log/a.log", true},
		{"/var/log/**/*.log", "/var/log/x/y/a.log", true},
		{"/var/log/{app,db}.log", "/var/log/db.log", true},
		{"/var/log/{app,db}.log", "/var/log/web.log", false},
		{"/var/log/pods/*/*/*.log", "/var/log/pods/ns_p_uid/c/0.log", true},
		{"/var/log/*.gz", "/var/log/a.log", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+" "+tc.name, func(t *testing.T) {
			if got := matchGlob(tc.pattern, tc.name); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a.log", "b.txt", "x/c.log", "x/y/d.log"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), nil, 0o644)
	}
	files, dirs := glob(dir + "/**/*.log")
	sort.Strings(files)
	want := []string{dir + "/a.log", dir + "/x/c.log", dir + "/x/y/d.log"}
	if len(files) != 3 || files[0] != want[0] || files[1] != want[1] || files[2] != want[2] {
		t.Fatalf("files %v", files)
	}
	if len(dirs) != 3 {
		t.Fatalf("dirs %v", dirs)
	}
	files, _ = glob(dir + "/*.{log,txt}")
	if len(files) != 2 {
		t.Fatalf("braces: %v", files)
	}
}

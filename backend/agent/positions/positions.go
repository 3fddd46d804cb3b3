package positions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Entry is the committed read offset of one file: every byte before
// Offset was acknowledged by the server. The file is identified by Dev and
// Inode, and Fingerprint (a hash of its first FingerprintLen bytes) tells
// a reused inode from the file that had it.
type Entry struct {
	Path           string `yaml:"path"`
	Dev            uint64 `yaml:"dev"`
	Inode          uint64 `yaml:"inode"`
	Fingerprint    string `yaml:"fingerprint,omitempty"`
	FingerprintLen int    `yaml:"fingerprint_len,omitempty"`
	Offset         int64  `yaml:"offset"`
}

// File is the content of a positions file. Legacy holds Promtail's
// "positions" map (path to offset) when the file was written by Promtail;
// lode-agent reads it once and then writes its own form.
type File struct {
	Version int              `yaml:"version"`
	Files   []Entry          `yaml:"files"`
	Legacy  map[string]int64 `yaml:"-"`
}

const version = 1

// Read loads the positions file at path. A missing file gives an empty
// File and exists=false. A corrupt file is an error wrapping ErrCorrupt,
// unless ignoreInvalid, in which case it is treated as missing.
func Read(path string, ignoreInvalid bool) (f File, exists bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return File{}, false, nil
	}
	if err != nil {
		return File{}, false, fmt.Errorf("read positions: %w", err)
	}
	var raw struct {
		Version   int               `yaml:"version"`
		Files     []Entry           `yaml:"files"`
		Positions map[string]string `yaml:"positions"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		if ignoreInvalid {
			return File{}, false, nil
		}
		return File{}, false, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if raw.Version > version {
		return File{}, false, fmt.Errorf("%w: %s has version %d, this agent reads up to %d", ErrCorrupt, path, raw.Version, version)
	}
	f = File{Version: version, Files: raw.Files}
	if len(raw.Positions) > 0 {
		f.Legacy = map[string]int64{}
		for p, v := range raw.Positions {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			f.Legacy[p] = n
		}
	}
	return f, true, nil
}

// Write replaces the positions file at path atomically and durably: it
// writes a temporary file in the same directory, fsyncs it, renames it
// over path and fsyncs the directory, so a crash leaves either the old or
// the new content, never a mix.
func Write(path string, entries []Entry) error {
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Path != sorted[j].Path {
			return sorted[i].Path < sorted[j].Path
		}
		return sorted[i].Inode < sorted[j].Inode
	})
	data, err := yaml.Marshal(File{Version: version, Files: sorted})
	if err != nil {
		return fmt.Errorf("encode positions: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create positions directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary positions file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write positions: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("fsync positions: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close positions: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename positions: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open positions directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync positions directory: %w", err)
	}
	return nil
}

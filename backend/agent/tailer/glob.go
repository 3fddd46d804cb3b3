package tailer

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Globs follow the doublestar syntax Promtail documents for __path__:
// `*`, `?` and `[...]` within one path segment, `**` for any number of
// segments, and `{a,b}` alternatives.

// expandBraces returns the patterns pattern stands for once each {a,b}
// group is expanded.
func expandBraces(pattern string) []string {
	open := strings.IndexByte(pattern, '{')
	if open < 0 {
		return []string{pattern}
	}
	depth, closeAt := 0, -1
	var commas []int
	for i := open; i < len(pattern); i++ {
		switch pattern[i] {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
		if depth == 0 {
			closeAt = i
			break
		}
	}
	if closeAt < 0 {
		return []string{pattern}
	}
	var out []string
	prev := open + 1
	for _, c := range append(commas, closeAt) {
		alt := pattern[:open] + pattern[prev:c] + pattern[closeAt+1:]
		out = append(out, expandBraces(alt)...)
		prev = c + 1
	}
	return out
}

// matchGlob reports whether name matches pattern (braces expanded).
func matchGlob(pattern, name string) bool {
	for _, p := range expandBraces(pattern) {
		if matchSegments(strings.Split(p, "/"), strings.Split(name, "/")) {
			return true
		}
	}
	return false
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// staticBase returns the longest leading directory of pattern without
// glob characters.
func staticBase(pattern string) string {
	segs := strings.Split(pattern, "/")
	i := 0
	for i < len(segs)-1 && !strings.ContainsAny(segs[i], "*?[{") {
		i++
	}
	base := strings.Join(segs[:i], "/")
	if base == "" && strings.HasPrefix(pattern, "/") {
		return "/"
	}
	if base == "" {
		return "."
	}
	return base
}

// glob returns the regular files matching pattern, and the directories
// that were searched (to be watched for new files).
func glob(pattern string) (files, dirs []string) {
	seenDir := map[string]bool{}
	addDir := func(d string) {
		if !seenDir[d] {
			seenDir[d] = true
			dirs = append(dirs, d)
		}
	}
	for _, p := range expandBraces(pattern) {
		p = filepath.Clean(p)
		base := staticBase(p)
		if !strings.ContainsAny(p, "*?[") {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				files = append(files, p)
			}
			addDir(filepath.Dir(p))
			continue
		}
		_ = filepath.WalkDir(base, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if name != base && !dirMayMatch(p, name) {
					return filepath.SkipDir
				}
				addDir(name)
				return nil
			}
			if matchSegments(strings.Split(p, "/"), strings.Split(name, "/")) {
				if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
					files = append(files, name)
				}
			}
			return nil
		})
	}
	return files, dirs
}

// dirMayMatch reports whether files below dir can match pattern.
func dirMayMatch(pattern, dir string) bool {
	pat := strings.Split(pattern, "/")
	name := strings.Split(dir, "/")
	for i, seg := range name {
		if i >= len(pat)-1 {
			return false // the last pattern segment is the file name
		}
		if pat[i] == "**" {
			return true
		}
		if ok, err := path.Match(pat[i], seg); err != nil || !ok {
			return false
		}
	}
	return true
}

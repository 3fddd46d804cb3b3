package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// nodeIDFile holds the node's Raft id inside the raft directory.
const nodeIDFile = "node-id"

// resolveNodeID returns the node id persisted in dir, checking it against
// configured; on first start it persists configured, or a hostname-derived
// id (with the Raft port appended when it is not the default 9096, so
// that several nodes on one host differ), or "lode-1".
func resolveNodeID(dir, configured, raftAddr string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		stored := strings.TrimSpace(string(b))
		if stored == "" {
			return "", fmt.Errorf("node id file %s is empty", path)
		}
		if configured != "" && configured != stored {
			return "", fmt.Errorf("%w: -cluster.node-id %q, %s holds %q", ErrNodeIDMismatch, configured, path, stored)
		}
		return stored, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read node id: %w", err)
	}
	id := configured
	if id == "" {
		host, _ := os.Hostname()
		id = nodeIDFromHostname(host)
		if _, port, err := net.SplitHostPort(raftAddr); err == nil && port != "9096" && port != "0" {
			id += "-" + port
		}
	}
	if err := writeFileSync(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("persist node id: %w", err)
	}
	return id, nil
}

// nodeIDFromHostname keeps the characters a node id allows (the first
// label of the hostname) and falls back to "lode-1".
func nodeIDFromHostname(host string) string {
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	var b strings.Builder
	for _, r := range host {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	id := b.String()
	if len(id) > 64 {
		id = id[:64]
	}
	if !nodeIDPattern.MatchString(id) {
		return "lode-1"
	}
	return id
}

// writeFileSync writes path atomically and durably (temp file, fsync,
// rename, fsync of the directory).
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

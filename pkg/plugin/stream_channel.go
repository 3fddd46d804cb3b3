package plugin

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

const (
	// tailPathPrefix starts the path of every live-tail channel: ds/<uid>/tail/<key>.
	tailPathPrefix = "tail/"
	// maxInlineKey is the longest key that carries the query itself; Grafana Live bounds the
	// whole channel name, so longer queries are kept in the registry under a hash.
	maxInlineKey = 160
	// channelRegistrySize bounds the hashed keys remembered per datasource instance.
	channelRegistrySize = 1024
)

// tailRequest is what a live-tail channel asks for. The tenant and credentials are never part
// of it: they come from the datasource settings only.
type tailRequest struct {
	Expr  string `json:"expr"`
	Limit int    `json:"limit,omitempty"`
}

// channelRegistry maps channel keys to tail requests. Keys of short queries are the query
// itself (base64url JSON, prefix "q"), so any plugin instance can serve them; long queries get
// a hash key (prefix "h") remembered here. Safe for concurrent use.
type channelRegistry struct {
	mu    sync.Mutex // guards byKey and order
	byKey map[string]tailRequest
	order []string // insertion order, for eviction
	limit int
}

func newChannelRegistry(limit int) *channelRegistry {
	return &channelRegistry{byKey: map[string]tailRequest{}, limit: limit}
}

// key returns the channel key of r, remembering r when the key is a hash.
func (c *channelRegistry) key(r tailRequest) string {
	b, err := json.Marshal(r)
	if err != nil {
		panic("BUG: marshal tail request: " + err.Error())
	}
	if enc := base64.RawURLEncoding.EncodeToString(b); len(enc) < maxInlineKey {
		return "q" + enc
	}
	sum := sha256.Sum256(b)
	k := "h" + hex.EncodeToString(sum[:16])
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; !ok {
		if len(c.order) >= c.limit {
			delete(c.byKey, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, k)
	}
	c.byKey[k] = r
	return k
}

// lookup resolves a channel path ("tail/<key>"). Data, when it holds a query (the frontend may
// subscribe with the query as channel data), wins over the key.
func (c *channelRegistry) lookup(path string, data json.RawMessage) (tailRequest, error) {
	key, ok := strings.CutPrefix(path, tailPathPrefix)
	if !ok {
		return tailRequest{}, fmt.Errorf("%w: %q is not a tail channel", ErrUnknownChannel, path)
	}
	if r, ok := requestFromData(data); ok {
		return r, nil
	}
	switch {
	case strings.HasPrefix(key, "q"):
		b, err := base64.RawURLEncoding.DecodeString(key[1:])
		var r tailRequest
		if err != nil || json.Unmarshal(b, &r) != nil || strings.TrimSpace(r.Expr) == "" {
			return tailRequest{}, fmt.Errorf("%w: channel key is not a tail query", ErrUnknownChannel)
		}
		return r, nil
	case strings.HasPrefix(key, "h"):
		c.mu.Lock()
		r, ok := c.byKey[key]
		c.mu.Unlock()
		if !ok {
			return tailRequest{}, fmt.Errorf("%w: this live query is no longer known; run it again", ErrUnknownChannel)
		}
		return r, nil
	}
	return tailRequest{}, fmt.Errorf("%w: channel key %q is not a tail query", ErrUnknownChannel, key)
}

// requestFromData reads a query ({"expr": ..., "maxLines": ...}) sent as subscription data.
func requestFromData(data json.RawMessage) (tailRequest, bool) {
	if len(data) == 0 {
		return tailRequest{}, false
	}
	var m QueryModel
	if json.Unmarshal(data, &m) != nil || strings.TrimSpace(m.Expr) == "" {
		return tailRequest{}, false
	}
	r := tailRequest{Expr: strings.TrimSpace(m.Expr)}
	if txt, ok := scalarText(m.MaxLines); ok {
		if n, err := strconv.Atoi(txt); err == nil && n > 0 {
			r.Limit = n
		}
	}
	return r, true
}

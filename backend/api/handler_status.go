package api

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ClusterStatus is the Raft view of one node: who leads, how far the log
// is, and every member of the configuration.
type ClusterStatus struct {
	NodeID       string         `json:"node_id"`
	Leader       string         `json:"leader"`
	LeaderAddr   string         `json:"leader_addr"`
	Term         uint64         `json:"term"`
	CommitIndex  uint64         `json:"commit_index"`
	AppliedIndex uint64         `json:"applied_index"`
	Members      []MemberStatus `json:"members"`
}

// MemberStatus is one member of the cluster.
type MemberStatus struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	GRPCAddr string `json:"grpc_addr"`
	HTTPAddr string `json:"http_addr"`
	// Suffrage is "voter", "nonvoter", or "" for a node known to the ring
	// but not (yet) in the Raft configuration.
	Suffrage     string    `json:"suffrage"`
	State        string    `json:"state"`
	Leader       bool      `json:"leader"`
	Healthy      bool      `json:"healthy"`
	Heartbeat    time.Time `json:"heartbeat,omitzero"`
	AppliedIndex uint64    `json:"applied_index"`
	Lag          uint64    `json:"lag"` // entries behind the leader's commit index
}

// RingStatus is the ring of ingesters as the local FSM replica holds it.
type RingStatus struct {
	ReplicationFactor int                  `json:"replication_factor"`
	Instances         []RingInstanceStatus `json:"instances"`
}

// RingInstanceStatus is one ring member.
type RingInstanceStatus struct {
	ID        string    `json:"id"`
	Addr      string    `json:"addr"`
	State     string    `json:"state"`
	Tokens    int       `json:"tokens"`
	Ownership float64   `json:"ownership"` // fraction of the token space, 0..1
	Healthy   bool      `json:"healthy"`
	Heartbeat time.Time `json:"heartbeat,omitzero"`
}

// StatusSource gives the status pages their data. Both methods are called
// once per request, concurrently from many requests, and return snapshots
// that the caller may keep (it does not modify them).
type StatusSource interface {
	ClusterStatus() ClusterStatus
	RingStatus() RingStatus
}

// RingHandler serves GET /ring: the ring's members with their state,
// health, heartbeat age, tokens and ownership of the token space.
func RingHandler(src StatusSource) http.Handler {
	return &statusHandler{src: src, ring: true, now: time.Now}
}

// ClusterHandler serves GET /cluster: the Raft leader, term and indexes,
// and the members with their suffrage, state, health, heartbeat age,
// applied index, lag, tokens and ownership.
func ClusterHandler(src StatusSource) http.Handler {
	return &statusHandler{src: src, now: time.Now}
}

// statusHandler answers JSON when the request has ?format=json or prefers
// application/json in its Accept header, and a self-contained HTML page
// otherwise. GET and HEAD only.
type statusHandler struct {
	src  StatusSource
	ring bool // the /ring page, else /cluster
	now  func() time.Time
}

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, &httpError{status: http.StatusMethodNotAllowed, msg: "method not allowed: use GET"})
		return
	}
	asJSON, err := statusFormat(r)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept")
	cs, rs := h.src.ClusterStatus(), h.src.RingStatus()
	if asJSON {
		if h.ring {
			rs.Instances = emptyIfNil(rs.Instances)
			writeJSON(w, rs)
		} else {
			cs.Members = emptyIfNil(cs.Members)
			writeJSON(w, cs)
		}
		return
	}
	page := buildStatusPage(cs, rs, h.ring, h.now())
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, page); err != nil {
		writeError(w, fmt.Errorf("render status page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write(buf.Bytes())
}

// emptyIfNil makes a nil slice encode as [] rather than null.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// statusFormat reports whether the request asks for JSON: ?format=json,
// or an Accept header that rates application/json above text/html.
func statusFormat(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		return true, nil
	case "html":
		return false, nil
	case "":
		return prefersJSON(r.Header.Values("Accept")), nil
	default:
		return false, badRequest("format must be json or html, got %q", f)
	}
}

// prefersJSON compares the quality the Accept header gives JSON with the
// one it gives HTML, each from its most specific matching media range
// (application/json, application/*, */* and text/html, text/*, */*).
// Ties, and no Accept header at all, go to HTML.
func prefersJSON(accept []string) bool {
	type rated struct{ q, spec float64 }
	var js, html rated
	rate := func(r *rated, q, spec float64) {
		if spec > r.spec {
			*r = rated{q, spec}
		}
	}
	for _, line := range accept {
		for part := range strings.SplitSeq(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil {
					continue
				}
			}
			switch mt {
			case "application/json":
				rate(&js, q, 3)
			case "application/*":
				rate(&js, q, 2)
			case "text/html":
				rate(&html, q, 3)
			case "text/*":
				rate(&html, q, 2)
			case "*/*":
				rate(&js, q, 1)
				rate(&html, q, 1)
			}
		}
	}
	return js.q > 0 && js.q > html.q
}

// statusPage is what statusTemplate renders.
type statusPage struct {
	Ring    bool // the ring page, else the cluster page
	Now     string
	Cluster ClusterStatus
	RF      int
	Rows    []statusRow
}

// statusRow is one table row: a cluster member joined with its ring
// instance by id. Text fields are preformatted; "" shows as a dash.
type statusRow struct {
	ID, GRPCAddr, HTTPAddr, RaftAddr string
	Suffrage, State                  string
	Leader, Healthy                  bool
	Heartbeat, Age                   string
	Tokens, Ownership                string
	Applied, Lag                     string
}

// buildStatusPage joins members and ring instances by id. The cluster page
// has a row per member (plus ring instances missing from the Raft
// configuration), the ring page a row per ring instance; rows are sorted
// by id.
func buildStatusPage(cs ClusterStatus, rs RingStatus, ring bool, now time.Time) statusPage {
	inRing := make(map[string]RingInstanceStatus, len(rs.Instances))
	for _, in := range rs.Instances {
		inRing[in.ID] = in
	}
	var rows []statusRow
	listed := make(map[string]bool)
	if !ring {
		for _, m := range cs.Members {
			row := memberRow(m, now)
			if in, ok := inRing[m.ID]; ok {
				row.Tokens, row.Ownership = strconv.Itoa(in.Tokens), formatOwnership(in.Ownership)
			}
			rows = append(rows, row)
			listed[m.ID] = true
		}
	}
	members := make(map[string]MemberStatus, len(cs.Members))
	for _, m := range cs.Members {
		members[m.ID] = m
	}
	for _, in := range rs.Instances {
		if listed[in.ID] {
			continue
		}
		row := ringRow(in, now)
		if m, ok := members[in.ID]; ok {
			row.Suffrage, row.Leader = m.Suffrage, m.Leader
			row.Applied, row.Lag = strconv.FormatUint(m.AppliedIndex, 10), strconv.FormatUint(m.Lag, 10)
			row.RaftAddr, row.HTTPAddr = m.RaftAddr, m.HTTPAddr
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b statusRow) int { return cmp.Compare(a.ID, b.ID) })
	return statusPage{Ring: ring, Now: now.UTC().Format(time.RFC3339), Cluster: cs, RF: rs.ReplicationFactor, Rows: rows}
}

func memberRow(m MemberStatus, now time.Time) statusRow {
	return statusRow{
		ID: m.ID, GRPCAddr: m.GRPCAddr, HTTPAddr: m.HTTPAddr, RaftAddr: m.RaftAddr,
		Suffrage: m.Suffrage, State: m.State, Leader: m.Leader, Healthy: m.Healthy,
		Heartbeat: formatHeartbeat(m.Heartbeat), Age: heartbeatAge(now, m.Heartbeat),
		Applied: strconv.FormatUint(m.AppliedIndex, 10), Lag: strconv.FormatUint(m.Lag, 10),
	}
}

func ringRow(in RingInstanceStatus, now time.Time) statusRow {
	return statusRow{
		ID: in.ID, GRPCAddr: in.Addr, State: in.State, Healthy: in.Healthy,
		Heartbeat: formatHeartbeat(in.Heartbeat), Age: heartbeatAge(now, in.Heartbeat),
		Tokens: strconv.Itoa(in.Tokens), Ownership: formatOwnership(in.Ownership),
	}
}

func formatOwnership(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func formatHeartbeat(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// heartbeatAge says how long ago t was: "250ms ago", "4.2s ago",
// "3m7s ago"; "never" for the zero time. A t after now (clock skew) is
// "0s ago".
func heartbeatAge(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := max(now.Sub(t), 0)
	switch {
	case d < time.Second:
		d = d.Round(time.Millisecond)
	case d < time.Minute:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	return d.String() + " ago"
}

// statusTemplate renders both pages. html/template escapes every value
// for its context, so ids and addresses cannot inject markup.
var statusTemplate = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Lode {{if .Ring}}ring{{else}}cluster{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
nav a { margin-right: 1em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { color: #666; } dd { margin: 0; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { padding: .3em .7em; border-bottom: 1px solid #ddd; text-align: left; white-space: nowrap; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.leader { background: #fffbe6; }
.badge { font-size: .8em; padding: .1em .4em; border-radius: .3em; background: #f0c000; color: #000; margin-left: .4em; }
.ok { color: #16794c; } .bad { color: #c0262d; font-weight: bold; }
</style>
</head>
<body>
<h1>Lode {{if .Ring}}ring{{else}}cluster{{end}}</h1>
<nav><a href="cluster">cluster</a><a href="ring">ring</a><a href="?format=json">JSON</a></nav>
<dl>
<dt>node</dt><dd>{{or .Cluster.NodeID "-"}}</dd>
<dt>leader</dt><dd>{{or .Cluster.Leader "none"}}{{with .Cluster.LeaderAddr}} ({{.}}){{end}}</dd>
{{- if .Ring}}
<dt>replication factor</dt><dd>{{.RF}}</dd>
{{- else}}
<dt>term</dt><dd>{{.Cluster.Term}}</dd>
<dt>commit index</dt><dd>{{.Cluster.CommitIndex}}</dd>
<dt>applied index</dt><dd>{{.Cluster.AppliedIndex}}</dd>
{{- end}}
<dt>as of</dt><dd>{{.Now}}</dd>
</dl>
<table>
<thead><tr><th>id</th><th>gRPC</th><th>HTTP</th><th>Raft</th><th>suffrage</th><th>state</th><th>health</th><th>heartbeat</th><th>tokens</th><th>ownership</th><th>applied</th><th>lag</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr{{if .Leader}} class="leader"{{end}}>
<td>{{.ID}}{{if .Leader}}<span class="badge">leader</span>{{end}}</td>
<td>{{or .GRPCAddr "-"}}</td><td>{{or .HTTPAddr "-"}}</td><td>{{or .RaftAddr "-"}}</td>
<td>{{or .Suffrage "-"}}</td><td>{{or .State "-"}}</td>
<td>{{if .Healthy}}<span class="ok">healthy</span>{{else}}<span class="bad">unhealthy</span>{{end}}</td>
<td{{with .Heartbeat}} title="{{.}}"{{end}}>{{.Age}}</td>
<td class="num">{{or .Tokens "-"}}</td><td class="num">{{or .Ownership "-"}}</td>
<td class="num">{{or .Applied "-"}}</td><td class="num">{{or .Lag "-"}}</td>
</tr>
{{- else}}
<tr><td colspan="12">no members</td></tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))

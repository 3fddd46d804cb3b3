package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

type fakeStatus struct {
	cs ClusterStatus
	rs RingStatus
}

func (f *fakeStatus) ClusterStatus() ClusterStatus { return f.cs }
func (f *fakeStatus) RingStatus() RingStatus       { return f.rs }

const hostileID = `<script>alert("pwn")</script>`

var statusNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func testStatus() *fakeStatus {
	return &fakeStatus{
		cs: ClusterStatus{
			NodeID: "lode-1", Leader: "lode-0", LeaderAddr: "127.0.0.10:9096",
			Term: 7, CommitIndex: 1200, AppliedIndex: 1195,
			Members: []MemberStatus{
				{ID: "lode-1", RaftAddr: "127.0.0.11:9096", GRPCAddr: "127.0.0.11:9095", HTTPAddr: "127.0.0.11:3100", Suffrage: "voter", State: "ACTIVE", Healthy: false, Heartbeat: statusNow.Add(-123 * time.Second), AppliedIndex: 1195, Lag: 5},
				{ID: "lode-0", RaftAddr: "127.0.0.10:9096", GRPCAddr: "127.0.0.10:9095", HTTPAddr: "127.0.0.10:3100", Suffrage: "voter", State: "ACTIVE", Leader: true, Healthy: true, Heartbeat: statusNow.Add(-5 * time.Second), AppliedIndex: 1200},
				{ID: hostileID, RaftAddr: `"><img src=x onerror=alert(1)>`, Suffrage: "nonvoter", State: "JOINING", AppliedIndex: 3, Lag: 1197},
			},
		},
		rs: RingStatus{
			ReplicationFactor: 3,
			Instances: []RingInstanceStatus{
				{ID: "lode-0", Addr: "127.0.0.10:9095", State: "ACTIVE", Tokens: 128, Ownership: 1.0 / 3, Healthy: true, Heartbeat: statusNow.Add(-5 * time.Second)},
				{ID: "lode-1", Addr: "127.0.0.11:9095", State: "ACTIVE", Tokens: 128, Ownership: 0.5, Heartbeat: statusNow.Add(-123 * time.Second)},
				{ID: "lode-3", Addr: "127.0.0.13:9095", State: "LEAVING", Tokens: 128, Ownership: 1.0 / 6, Healthy: true, Heartbeat: statusNow.Add(-250 * time.Millisecond)},
				{ID: hostileID, Addr: `"><img src=x onerror=alert(1)>`, State: "JOINING"},
			},
		},
	}
}

func serveStatus(t *testing.T, src StatusSource, ring bool, method, target, accept string) *httptest.ResponseRecorder {
	t.Helper()
	h := &statusHandler{src: src, ring: ring, now: func() time.Time { return statusNow }}
	req := httptest.NewRequest(method, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestStatusJSON(t *testing.T) {
	src := testStatus()
	tests := []struct {
		name, target, accept string
		ring                 bool
		wantKeys             []string
	}{
		{"cluster format=json", "/cluster?format=json", "", false, []string{`"node_id":"lode-1"`, `"leader_addr":"127.0.0.10:9096"`, `"commit_index":1200`, `"grpc_addr":`, `"applied_index":1195`, `"lag":5`, `"suffrage":"nonvoter"`}},
		{"cluster accept json", "/cluster", "application/json", false, []string{`"members":[`}},
		{"ring format=json", "/ring?format=json", "text/html", true, []string{`"replication_factor":3`, `"tokens":128`, `"ownership":0.5`}},
		{"ring accept json over wildcard", "/ring", "application/json, */*;q=0.5", true, []string{`"instances":[`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveStatus(t, src, tt.ring, http.MethodGet, tt.target, tt.accept)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
			body := rec.Body.String()
			for _, k := range tt.wantKeys {
				if !strings.Contains(body, k) {
					t.Errorf("body lacks %s:\n%s", k, body)
				}
			}
			var got, want any
			if tt.ring {
				var rs RingStatus
				err := json.Unmarshal(rec.Body.Bytes(), &rs)
				got, want = rs, src.rs
				if err != nil {
					t.Fatal(err)
				}
			} else {
				var cs ClusterStatus
				err := json.Unmarshal(rec.Body.Bytes(), &cs)
				got, want = cs, src.cs
				if err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("JSON round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestStatusJSONEmpty(t *testing.T) {
	tests := []struct {
		name string
		ring bool
		want string
	}{
		{"cluster", false, `{"node_id":"","leader":"","leader_addr":"","term":0,"commit_index":0,"applied_index":0,"members":[]}`},
		{"ring", true, `{"replication_factor":0,"instances":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveStatus(t, &fakeStatus{}, tt.ring, http.MethodGet, "/?format=json", "")
			if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
				t.Fatalf("body\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStatusPrefersJSON(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   bool
	}{
		{"no header", nil, false},
		{"json", []string{"application/json"}, true},
		{"json with charset", []string{"application/json; charset=utf-8"}, true},
		{"html", []string{"text/html"}, false},
		{"browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, false},
		{"curl wildcard", []string{"*/*"}, false},
		{"json over wildcard", []string{"application/json, */*;q=0.1"}, true},
		{"html rated higher", []string{"application/json;q=0.5, text/html"}, false},
		{"json rated higher", []string{"text/html;q=0.2, application/json"}, true},
		{"tie goes to html", []string{"application/json, text/html"}, false},
		{"json refused", []string{"application/json;q=0"}, false},
		{"application wildcard", []string{"application/*"}, true},
		{"specific beats wildcard", []string{"application/*;q=0.9, application/json;q=0.1, text/*;q=0.5"}, false},
		{"several header lines", []string{"text/html;q=0.1", "application/json"}, true},
		{"garbage ignored", []string{"%%%, application/json;q=abc, application/json"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := prefersJSON(tt.accept); got != tt.want {
				t.Fatalf("prefersJSON(%q) = %v, want %v", tt.accept, got, tt.want)
			}
		})
	}
}

var (
	rowRe  = regexp.MustCompile(`(?s)<tr[^>]*>.*?</tr>`)
	cellRe = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRe  = regexp.MustCompile(`<[^>]*>`)
)

// tableRows returns the body rows of the page's table as cell texts (tags
// stripped, entities left as they are), keyed by the first cell.
func tableRows(t *testing.T, body string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	for _, tr := range rowRe.FindAllString(body, -1) {
		var cells []string
		for _, m := range cellRe.FindAllStringSubmatch(tr, -1) {
			cells = append(cells, strings.TrimSpace(tagRe.ReplaceAllString(m[1], "")))
		}
		if len(cells) > 0 {
			rows[strings.TrimSuffix(cells[0], "leader")] = cells
		}
	}
	return rows
}

func TestStatusHTML(t *testing.T) {
	src := testStatus()
	escapedID := "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;"
	// columns: id, gRPC, HTTP, Raft, suffrage, state, health, heartbeat,
	// tokens, ownership, applied, lag
	tests := []struct {
		name   string
		ring   bool
		accept string
		want   map[string][]string
		header []string
	}{
		{"cluster", false, "", map[string][]string{
			"lode-0":  {"lode-0leader", "127.0.0.10:9095", "127.0.0.10:3100", "127.0.0.10:9096", "voter", "ACTIVE", "healthy", "5s ago", "128", "33.3%", "1200", "0"},
			"lode-1":  {"lode-1", "127.0.0.11:9095", "127.0.0.11:3100", "127.0.0.11:9096", "voter", "ACTIVE", "unhealthy", "2m3s ago", "128", "50.0%", "1195", "5"},
			"lode-3":  {"lode-3", "127.0.0.13:9095", "-", "-", "-", "LEAVING", "healthy", "250ms ago", "128", "16.7%", "-", "-"},
			escapedID: {escapedID, "-", "-", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "nonvoter", "JOINING", "unhealthy", "never", "0", "0.0%", "3", "1197"},
		}, []string{"<dt>term</dt><dd>7</dd>", "<dt>commit index</dt><dd>1200</dd>", "<dt>leader</dt><dd>lode-0 (127.0.0.10:9096)</dd>"}},
		{"ring", true, "text/html,*/*;q=0.8", map[string][]string{
			"lode-0":  {"lode-0leader", "127.0.0.10:9095", "127.0.0.10:3100", "127.0.0.10:9096", "voter", "ACTIVE", "healthy", "5s ago", "128", "33.3%", "1200", "0"},
			"lode-1":  {"lode-1", "127.0.0.11:9095", "127.0.0.11:3100", "127.0.0.11:9096", "voter", "ACTIVE", "unhealthy", "2m3s ago", "128", "50.0%", "1195", "5"},
			"lode-3":  {"lode-3", "127.0.0.13:9095", "-", "-", "-", "LEAVING", "healthy", "250ms ago", "128", "16.7%", "-", "-"},
			escapedID: {escapedID, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "-", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", "nonvoter", "JOINING", "unhealthy", "never", "0", "0.0%", "3", "1197"},
		}, []string{"<dt>replication factor</dt><dd>3</dd>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveStatus(t, src, tt.ring, http.MethodGet, "/"+tt.name, tt.accept)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			body := rec.Body.String()
			for _, h := range tt.header {
				if !strings.Contains(body, h) {
					t.Errorf("page lacks %s", h)
				}
			}
			rows := tableRows(t, body)
			if len(rows) != len(tt.want) {
				t.Fatalf("table has %d rows, want %d:\n%s", len(rows), len(tt.want), body)
			}
			for id, want := range tt.want {
				if got := rows[id]; !reflect.DeepEqual(got, want) {
					t.Errorf("row %s\n got %q\nwant %q", id, got, want)
				}
			}
			if n := strings.Count(body, `class="leader"`); n != 1 {
				t.Errorf("%d rows marked leader, want 1", n)
			}
			if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<script") || strings.Contains(body, "<link") {
				t.Error("page is not self-contained")
			}
		})
	}
}

func TestStatusHTMLEscapesHostileInput(t *testing.T) {
	src := testStatus()
	src.cs.NodeID = `</dd><script>x()</script>`
	src.cs.Leader, src.cs.LeaderAddr = hostileID, `"onmouseover="alert(1)`
	for _, ring := range []bool{false, true} {
		rec := serveStatus(t, src, ring, http.MethodGet, "/", "")
		body := rec.Body.String()
		for _, raw := range []string{"<script", "<img", `"onmouseover=`, "</dd><script>"} {
			if strings.Contains(body, raw) {
				t.Errorf("ring=%v: page contains unescaped %s", ring, raw)
			}
		}
		if !strings.Contains(body, "&lt;/dd&gt;&lt;script&gt;x()&lt;/script&gt;") {
			t.Errorf("ring=%v: node id not shown escaped", ring)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("ring=%v: Content-Security-Policy %q", ring, csp)
		}
	}
}

func TestStatusEmptyHTML(t *testing.T) {
	rec := serveStatus(t, &fakeStatus{}, false, http.MethodGet, "/cluster", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "no members") || !strings.Contains(rec.Body.String(), "<dd>none</dd>") {
		t.Fatalf("status %d, body:\n%s", rec.Code, rec.Body)
	}
}

func TestStatusMethodsAndFormats(t *testing.T) {
	tests := []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/?format=html", http.StatusOK},
		{http.MethodGet, "/?format=yaml", http.StatusBadRequest},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPut, "/?format=json", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/", http.StatusMethodNotAllowed},
		{http.MethodPatch, "/", http.StatusMethodNotAllowed},
	}
	for _, ring := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.method + " " + tt.target
			if ring {
				name = "ring " + name
			}
			t.Run(name, func(t *testing.T) {
				rec := serveStatus(t, testStatus(), ring, tt.method, tt.target, "")
				if rec.Code != tt.want {
					t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
				}
				if tt.want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
					t.Fatalf("Allow %q", rec.Header().Get("Allow"))
				}
			})
		}
	}
}

func TestStatusHandlersServeTheirPage(t *testing.T) {
	src := testStatus()
	for _, tt := range []struct {
		h    http.Handler
		want string
	}{
		{RingHandler(src), `"replication_factor":3`},
		{ClusterHandler(src), `"node_id":"lode-1"`},
	} {
		rec := httptest.NewRecorder()
		tt.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?format=json", nil))
		if !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("body lacks %s: %s", tt.want, rec.Body)
		}
	}
}

func TestStatusHeartbeatAge(t *testing.T) {
	tests := []struct {
		name string
		ago  time.Duration
		zero bool
		want string
	}{
		{"never", 0, true, "never"},
		{"just now", 0, false, "0s ago"},
		{"future (skew)", -time.Minute, false, "0s ago"},
		{"milliseconds", 250*time.Millisecond + 400*time.Microsecond, false, "250ms ago"},
		{"seconds", 4240 * time.Millisecond, false, "4.2s ago"},
		{"minutes", 3*time.Minute + 7400*time.Millisecond, false, "3m7s ago"},
		{"hours", 26 * time.Hour, false, "26h0m0s ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hb := statusNow.Add(-tt.ago)
			if tt.zero {
				hb = time.Time{}
			}
			if got := heartbeatAge(statusNow, hb); got != tt.want {
				t.Fatalf("heartbeatAge = %q, want %q", got, tt.want)
			}
		})
	}
}

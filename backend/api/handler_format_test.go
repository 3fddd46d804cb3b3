package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

func TestFormatQuery(t *testing.T) {
	s := httptest.NewServer(New(Options{}, Deps{}))
	t.Cleanup(s.Close)
	format := func(method, query string) (int, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == "POST" {
			resp, err = http.PostForm(s.URL+"/loki/api/v1/format_query", url.Values{"query": {query}})
		} else {
			resp, err = http.Get(s.URL + "/loki/api/v1/format_query?query=" + url.QueryEscape(query))
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return resp.StatusCode, string(body)
		}
		var out struct{ Status, Data string }
		if err := json.Unmarshal(body, &out); err != nil || out.Status != "success" {
			t.Fatalf("%s: %v", body, err)
		}
		return 200, out.Data
	}
	for _, c := range []struct{ in, want string }{
		{`sum by(app)(rate({app="a",env=~"p.*"}|="x"!~"y"[5m]))`, `sum by (app) (rate({app="a", env=~"p.*"} |= "x" !~ "y" [5m]))`},
		{"{app=`a`} | json | level = `error` | line_format \"{{.msg}}\"", `{app="a"} | json | level="error" | line_format "{{.msg}}"`},
	} {
		for _, method := range []string{"GET", "POST"} {
			status, got := format(method, c.in)
			if status != 200 || got != c.want {
				t.Fatalf("%s %s: %d %q, want %q", method, c.in, status, got, c.want)
			}
			if _, again := format(method, got); again != got {
				t.Fatalf("formatting %q again gave %q", got, again)
			}
		}
	}
	if status, body := format("GET", `sum(rate({app="a"}[5m])`); status != 400 || !strings.Contains(body, "parse error") {
		t.Fatalf("unbalanced query: %d %s", status, body)
	}
	resp, err := http.Get(s.URL + "/loki/api/v1/status/buildinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info["goVersion"] != runtime.Version() || info["version"] == "" {
		t.Fatalf("buildinfo %v %v", info, err)
	}
}

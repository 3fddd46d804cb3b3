package lodetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/klauspost/compress/snappy"

	"github.com/lode-logs/lode/backend/push"
)

// Response is an HTTP answer read whole.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Do sends a request and reads the answer.
func (p *Process) Do(method, path string, header http.Header, body []byte) (Response, error) {
	req, err := http.NewRequest(method, p.URL+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: b, Header: resp.Header}, err
}

// PushProto pushes req as snappy-compressed protobuf, as Promtail does.
func (p *Process) PushProto(req *push.Request) (Response, error) {
	body := snappy.Encode(nil, req.AppendMarshal(nil))
	return p.Do(http.MethodPost, "/loki/api/v1/push",
		http.Header{"Content-Type": {"application/x-protobuf"}}, body)
}

// PushJSON pushes a raw JSON body.
func (p *Process) PushJSON(body string) (Response, error) {
	return p.Do(http.MethodPost, "/loki/api/v1/push",
		http.Header{"Content-Type": {"application/json"}}, []byte(body))
}

// QueryResult is the part of Loki's query answer that tests inspect.
type QueryResult struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
		Stats      json.RawMessage `json:"stats"`
	} `json:"data"`
}

// StreamResult is one stream of a streams result.
type StreamResult struct {
	Stream map[string]string `json:"stream"`
	Values [][]string        `json:"values"`
}

// QueryRange runs a query_range with the given parameters (query is
// required; others as Loki names them).
func (p *Process) QueryRange(params url.Values) (Response, error) {
	return p.Do(http.MethodGet, "/loki/api/v1/query_range?"+params.Encode(), nil, nil)
}

// Lines returns every line of the streams matching selector between start
// and end, oldest first, paging with forward queries of pageSize lines.
func (p *Process) Lines(selector string, start, end time.Time, pageSize int) ([]string, error) {
	var out []string
	from := start.UnixNano()
	for {
		resp, err := p.QueryRange(url.Values{
			"query": {selector}, "start": {strconv.FormatInt(from, 10)},
			"end": {strconv.FormatInt(end.UnixNano(), 10)}, "limit": {strconv.Itoa(pageSize)},
			"direction": {"forward"},
		})
		if err != nil {
			return nil, err
		}
		if resp.Status != http.StatusOK {
			return nil, fmt.Errorf("query_range: %d %s", resp.Status, resp.Body)
		}
		var qr QueryResult
		if err := json.Unmarshal(resp.Body, &qr); err != nil {
			return nil, fmt.Errorf("decode query_range answer: %w", err)
		}
		var streams []StreamResult
		if err := json.Unmarshal(qr.Data.Result, &streams); err != nil {
			return nil, fmt.Errorf("decode streams: %w", err)
		}
		type tsLine struct {
			ts   int64
			line string
		}
		var page []tsLine
		for _, s := range streams {
			for _, v := range s.Values {
				ts, _ := strconv.ParseInt(v[0], 10, 64)
				page = append(page, tsLine{ts, v[1]})
			}
		}
		if len(page) == 0 {
			return out, nil
		}
		maxTS := int64(0)
		for _, e := range page {
			maxTS = max(maxTS, e.ts)
		}
		if len(page) < pageSize {
			for _, e := range page {
				out = append(out, e.line)
			}
			return out, nil
		}
		// Entries at maxTS may continue on the next page: keep only the
		// older ones here and read maxTS again from the start.
		kept := 0
		for _, e := range page {
			if e.ts < maxTS {
				out = append(out, e.line)
				kept++
			}
		}
		if kept == 0 {
			return nil, fmt.Errorf("more than %d entries share timestamp %d: raise the page size", pageSize, maxTS)
		}
		from = maxTS
	}
}

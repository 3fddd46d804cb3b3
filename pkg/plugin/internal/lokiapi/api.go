package lokiapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// HeaderTenant carries the tenant, as in Loki.
	HeaderTenant = "X-Scope-OrgID"
	// headerEncodingFlags asks for structured metadata and parsed labels apart from stream labels.
	headerEncodingFlags = "X-Loki-Response-Encoding-Flags"
	// maxGetURL is the longest query URL sent with GET; longer queries are POSTed as a form.
	maxGetURL = 4096
	// maxErrorMessage bounds the server message kept in a StatusError.
	maxErrorMessage = 2048
)

// Options configure an API. Tenant and Authorization are fixed for the API's lifetime.
type Options struct {
	// BaseURL is lode's address, optionally with a path prefix ("http://lode:3100", "https://h/lode").
	BaseURL string
	// Tenant is sent as X-Scope-OrgID when not empty.
	Tenant string
	// Authorization is the full Authorization header value ("Basic …", "Bearer …") or empty.
	Authorization string
	// HTTPClient sends the requests (TLS and timeouts live in its transport). Required.
	HTTPClient *http.Client
	// MaxResponseBytes bounds a response body; 0 means 256 MiB.
	MaxResponseBytes int64
	// UserAgent is sent as User-Agent when not empty.
	UserAgent string
	// CategorizeLabels asks the server to separate structured metadata and parsed labels.
	CategorizeLabels bool
	// TLS is used by the tail websocket (HTTPClient's transport carries its own copy); nil: defaults.
	TLS *tls.Config
	// DialTimeout bounds the websocket handshake; 0 means 30s.
	DialTimeout time.Duration
}

// API sends requests to one lode server. It is immutable and safe for concurrent use.
type API struct {
	base *url.URL
	opts Options
}

// New validates o and returns an API.
func New(o Options) (*API, error) {
	if o.HTTPClient == nil {
		return nil, fmt.Errorf("new lode api: no HTTP client")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("new lode api: parse URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("new lode api: URL scheme %q is not http or https", u.Scheme)
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 256 << 20
	}
	u.RawQuery, u.Fragment = "", ""
	return &API{base: u, opts: o}, nil
}

// BaseURL returns the server address the API talks to.
func (a *API) BaseURL() string { return a.base.String() }

// RangeQuery is a /loki/api/v1/query_range request.
type RangeQuery struct {
	Query      string
	Start, End time.Time
	Step       time.Duration // 0: let the server choose
	Limit      int           // 0: server default
	Direction  string        // "backward" or "forward"; empty: server default
}

// InstantQuery is a /loki/api/v1/query request.
type InstantQuery struct {
	Query     string
	Time      time.Time
	Limit     int
	Direction string
}

// QueryRange runs a range query.
func (a *API) QueryRange(ctx context.Context, q RangeQuery) (*QueryResponse, error) {
	v := url.Values{}
	v.Set("query", q.Query)
	v.Set("start", strconv.FormatInt(q.Start.UnixNano(), 10))
	v.Set("end", strconv.FormatInt(q.End.UnixNano(), 10))
	if q.Step > 0 {
		v.Set("step", FormatSeconds(q.Step))
	}
	setCommon(v, q.Limit, q.Direction)
	body, err := a.do(ctx, "query_range", v, true)
	if err != nil {
		return nil, err
	}
	return DecodeQueryResponse(body)
}

// QueryInstant runs an instant query.
func (a *API) QueryInstant(ctx context.Context, q InstantQuery) (*QueryResponse, error) {
	v := url.Values{}
	v.Set("query", q.Query)
	v.Set("time", strconv.FormatInt(q.Time.UnixNano(), 10))
	setCommon(v, q.Limit, q.Direction)
	body, err := a.do(ctx, "query", v, true)
	if err != nil {
		return nil, err
	}
	return DecodeQueryResponse(body)
}

func setCommon(v url.Values, limit int, direction string) {
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if direction != "" {
		v.Set("direction", direction)
	}
}

// Get sends a GET to /loki/api/v1/<path> with params and returns the body of a 2xx answer
// after checking that it is Loki's {"status":"success", ...} envelope (or, for endpoints
// without an envelope such as index/stats, a JSON object).
func (a *API) Get(ctx context.Context, path string, params url.Values) ([]byte, error) {
	body, err := a.do(ctx, path, params, false)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Status *string `json:"status"`
		Error  string  `json:"error"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("get %s: %w", path, notLoki(body))
	}
	if probe.Status != nil && *probe.Status == "error" {
		return nil, &StatusError{Code: 422, Message: probe.Error}
	}
	return body, nil
}

// Labels returns the label names seen in [start, end], optionally narrowed by a selector.
func (a *API) Labels(ctx context.Context, start, end time.Time, selector string) ([]string, error) {
	v := url.Values{}
	v.Set("start", strconv.FormatInt(start.UnixNano(), 10))
	v.Set("end", strconv.FormatInt(end.UnixNano(), 10))
	if selector != "" {
		v.Set("query", selector)
	}
	body, err := a.Get(ctx, "labels", v)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		return nil, fmt.Errorf("decode labels: %w", notLoki(body))
	}
	return r.Data, nil
}

// do sends one request to /loki/api/v1/<path>. Queries (isQuery) longer than maxGetURL are
// POSTed as a form, which Loki accepts for the query endpoints.
func (a *API) do(ctx context.Context, path string, params url.Values, isQuery bool) ([]byte, error) {
	u := a.base.JoinPath("loki/api/v1", path)
	enc := params.Encode()
	var req *http.Request
	var err error
	if isQuery && len(u.String())+1+len(enc) > maxGetURL {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(enc))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u.RawQuery = enc
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("build %s request: %w", path, err)
	}
	a.setHeaders(req.Header)
	if isQuery && a.opts.CategorizeLabels {
		req.Header.Set(headerEncodingFlags, "categorize-labels")
	}
	resp, err := a.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body, a.opts.MaxResponseBytes)
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, newStatusError(resp.StatusCode, body)
	}
	return body, nil
}

// setHeaders sets the fixed identity headers. It overwrites whatever was there, so nothing
// that reaches a request from a query can change the tenant or the credentials.
func (a *API) setHeaders(h http.Header) {
	h.Del(HeaderTenant)
	h.Del("Authorization")
	if a.opts.Tenant != "" {
		h.Set(HeaderTenant, a.opts.Tenant)
	}
	if a.opts.Authorization != "" {
		h.Set("Authorization", a.opts.Authorization)
	}
	if a.opts.UserAgent != "" {
		h.Set("User-Agent", a.opts.UserAgent)
	}
	h.Set("Accept", "application/json")
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return body, nil
}

// newStatusError extracts the server's message: the "error" or "message" field of a JSON
// body, or the trimmed text.
func newStatusError(code int, body []byte) *StatusError {
	msg := ""
	var j struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &j) == nil {
		msg = j.Error
		if msg == "" {
			msg = j.Message
		}
	}
	if msg == "" && !looksLikeHTML(body) {
		msg = string(bytes.TrimSpace(body))
	}
	if len(msg) > maxErrorMessage {
		msg = msg[:maxErrorMessage] + "…"
	}
	return &StatusError{Code: code, Message: msg}
}

// notLoki says why a 2xx body is not a Loki answer, wrapping ErrNotLokiAPI.
func notLoki(body []byte) error {
	switch {
	case looksLikeHTML(body):
		return fmt.Errorf("%w: got an HTML page", ErrNotLokiAPI)
	case !json.Valid(body):
		return fmt.Errorf("%w: got text that is not JSON", ErrNotLokiAPI)
	}
	return fmt.Errorf("%w: got JSON without Loki's status and data", ErrNotLokiAPI)
}

func looksLikeHTML(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '<'
}

// FormatSeconds renders d as decimal seconds ("15", "0.5"), the step form Loki accepts.
func FormatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

package frontend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
)

// NewProxy returns a handler forwarding every request to the downstream
// base URLs (e.g. "http://querier-1:3100"), round robin. A GET or HEAD
// request without a body whose connection fails before an answer is tried
// again on the next URL, at most once per URL. Websocket upgrades (the tail
// endpoint) are forwarded too. When no URL answers, the client gets 502
// with the last error.
func NewProxy(urls []string) (http.Handler, error) {
	if len(urls) == 0 {
		return nil, ErrNoDownstream
	}
	rt := &roundRobin{}
	for _, s := range urls {
		u, err := parseDownstreamURL(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("new proxy: %w", err)
		}
		rt.targets = append(rt.targets, u)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.ResponseHeaderTimeout = 0
	rt.next = tr
	return &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) { pr.SetXForwarded() },
		Transport:    rt,
		ErrorHandler: proxyError,
	}, nil
}

// roundRobin is the proxy's transport: it sends each request to the next
// target in turn and retries idempotent requests on the following targets
// when the connection fails. Safe for concurrent use.
type roundRobin struct {
	targets []*url.URL
	next    http.RoundTripper
	counter atomic.Uint64
}

// RoundTrip implements http.RoundTripper.
func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	first := rr.counter.Add(1) - 1
	n := uint64(len(rr.targets))
	var err error
	for i := range n {
		t := rr.targets[(first+i)%n]
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = t.Scheme, t.Host
		out.URL.Path = joinPath(t.Path, req.URL.Path)
		out.URL.RawPath = ""
		out.Host = ""
		var resp *http.Response
		resp, err = rr.next.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		if !retryable(req) || req.Context().Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("forward %s %s: %w", req.Method, req.URL.Path, err)
}

// retryable reports whether req may be sent again after a connection
// failure: idempotent and without a body.
func retryable(req *http.Request) bool {
	return (req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody)
}

func joinPath(base, p string) string {
	if base == "" || base == "/" {
		return p
	}
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(p, "/")
}

// proxyError answers a request no downstream answered: 499 when the client
// went away, 504 on a timeout, 502 otherwise, with the error as text.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		status = 499
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		status = http.StatusGatewayTimeout
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, err.Error())
}

package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// describe turns an error from talking to lode into a sentence a user can act on. It never
// includes the request URL (which carries the query) nor any secret.
func (d *Datasource) describe(err error) string {
	base := ""
	if d.api != nil {
		base = d.api.BaseURL()
	}
	var se *lokiapi.StatusError
	var ue *url.Error
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var msg string
	switch {
	case errors.As(err, &se) && strings.Contains(se.Message, "HTTP request to an HTTPS server"):
		msg = fmt.Sprintf("lode at %s expects HTTPS: use https:// in the URL", base)
	case errors.As(err, &se):
		msg = se.Error()
	case errors.Is(err, ErrInvalidQuery), errors.Is(err, ErrInvalidSettings), errors.Is(err, ErrNotMetricQuery):
		msg = err.Error()
	case errors.Is(err, context.Canceled):
		msg = "the request was cancelled"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ue) && ue.Timeout()):
		msg = fmt.Sprintf("lode at %s did not answer within %s (the datasource timeout): narrow the query or raise the timeout", base, d.settings.Timeout)
	case errors.Is(err, lokiapi.ErrNotLokiAPI):
		msg = fmt.Sprintf("the server at %s answered, but not with the Loki/Lode API (%s): check that the URL points to lode", base, notLokiReason(err))
	case errors.Is(err, lokiapi.ErrResponseTooLarge):
		msg = "lode's answer is too large: lower max lines or narrow the query"
	case errors.As(err, &dnsErr):
		msg = fmt.Sprintf("cannot resolve host %q: check the URL", dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = fmt.Sprintf("cannot reach lode at %s: connection refused; check the URL and that lode is running", base)
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr):
		msg = fmt.Sprintf("the TLS certificate of %s is not trusted (%v): add its CA certificate or turn on skip TLS verify", base, tlsCause(err))
	case errors.As(err, &recErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		msg = fmt.Sprintf("TLS handshake with %s failed: the server does not speak TLS; use http:// instead of https://", base)
	case errors.As(err, &ue):
		msg = fmt.Sprintf("cannot reach lode at %s: %v", base, ue.Err)
	default:
		msg = err.Error()
	}
	return redact(msg, d.settings.secrets())
}

// notLokiReason is the part of an ErrNotLokiAPI message after the sentinel's own text.
func notLokiReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, lokiapi.ErrNotLokiAPI.Error()+": "); i >= 0 {
		return msg[i+len(lokiapi.ErrNotLokiAPI.Error())+2:]
	}
	return "unexpected answer"
}

func tlsCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorResponse is the per-query answer for err: Grafana shows the message under the query.
func (d *Datasource) errorResponse(err error) backend.DataResponse {
	status := backend.StatusBadGateway
	source := backend.ErrorSourceDownstream
	var se *lokiapi.StatusError
	switch {
	case errors.As(err, &se):
		status = backend.Status(se.Code)
	case errors.Is(err, ErrInvalidQuery), errors.Is(err, ErrNotMetricQuery), errors.Is(err, ErrInvalidSettings):
		status = backend.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		status = backend.StatusTimeout
	case errors.Is(err, context.Canceled):
		status = backend.Status(499)
	case errors.Is(err, lokiapi.ErrBadResult):
		status, source = backend.StatusInternal, backend.ErrorSourcePlugin
	}
	if status < 400 {
		status = backend.StatusBadGateway
	}
	return backend.ErrDataResponseWithSource(status, source, d.describe(err))
}

package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// healthWindow is the time range the health check looks at.
const healthWindow = time.Hour

// healthDetails are the JSON details of a health check result (no secrets).
type healthDetails struct {
	URL       string `json:"url,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	AuthType  string `json:"authType,omitempty"`
	Labels    int    `json:"labels"`
	QueryStep string `json:"failedStep,omitempty"`
}

// CheckHealth proves that URL, tenant and credentials work: it lists the tenant's label names
// (the Loki API answers, with these credentials) and runs a real log query (the query path
// works). Each failure is described with what to fix.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if d.settingsErr != nil {
		return healthError(d.settingsErr.Error(), healthDetails{}), nil
	}
	det := healthDetails{URL: d.api.BaseURL(), Tenant: d.settings.Tenant, AuthType: d.settings.AuthType}
	now := d.opts.Now()
	labels, err := d.api.Labels(ctx, now.Add(-healthWindow), now, "")
	if err != nil {
		det.QueryStep = "labels"
		return healthError(d.healthMessage(err, "labels"), det), nil
	}
	det.Labels = len(labels)
	if _, err := d.api.QueryRange(ctx, lokiapi.RangeQuery{
		Query: healthQuery(labels), Start: now.Add(-healthWindow), End: now, Limit: 1, Direction: DirectionBackward,
	}); err != nil {
		det.QueryStep = "query_range"
		return healthError(d.healthMessage(err, "query_range"), det), nil
	}
	tenant := "the default tenant"
	if d.settings.Tenant != "" {
		tenant = fmt.Sprintf("tenant %q", d.settings.Tenant)
	}
	msg := fmt.Sprintf("Data source is working: lode at %s answered a log query for %s (%d labels in the last hour).", det.URL, tenant, len(labels))
	if len(labels) == 0 {
		msg = fmt.Sprintf("Connected to lode at %s, but %s has no logs in the last hour: if you expected data, check the tenant (sent as X-Scope-OrgID) and that agents push to this lode.", det.URL, tenant)
	}
	b, _ := json.Marshal(det)
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: b}, nil
}

// healthQuery is a log query that lode must be able to run: a selector on a label the
// tenant has, or on a label that matches nothing when the tenant has none.
func healthQuery(labels []string) string {
	for _, l := range labels {
		if labelNameRE.MatchString(l) && !strings.HasPrefix(l, "__") {
			return fmt.Sprintf(`{%s=~".+"}`, l)
		}
	}
	return `{lode_health_check="probe"}`
}

func healthError(msg string, det healthDetails) *backend.CheckHealthResult {
	b, _ := json.Marshal(det)
	return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg, JSONDetails: b}
}

// healthMessage explains a failed health step, naming the likely cause of each status.
func (d *Datasource) healthMessage(err error, step string) string {
	var se *lokiapi.StatusError
	if !errors.As(err, &se) {
		return d.describe(err)
	}
	said := ""
	if se.Message != "" {
		said = " lode said: " + redact(se.Message, d.settings.secrets())
	}
	base := d.api.BaseURL()
	switch {
	case se.Code == http.StatusUnauthorized && strings.Contains(strings.ToLower(se.Message), "org"):
		return "lode needs a tenant (401 Unauthorized): enter the tenant, which the plugin sends as X-Scope-OrgID." + said
	case se.Code == http.StatusUnauthorized:
		return fmt.Sprintf("lode rejected the credentials (401 Unauthorized): check the %s.%s", credentialsName(d.settings.AuthType), said)
	case se.Code == http.StatusForbidden:
		return fmt.Sprintf("lode refused access (403 Forbidden): check that these credentials may read tenant %q.%s", d.settings.Tenant, said)
	case se.Code == http.StatusNotFound:
		return fmt.Sprintf("%s/loki/api/v1/%s was not found (404): the URL does not point to a Lode or Loki API; enter the server address (with its path prefix, if any) without the API path.", base, step)
	case se.Code == http.StatusBadRequest && step == "query_range":
		return "lode answered but could not run a log query (400 Bad Request)." + said
	case se.Code >= 500:
		return fmt.Sprintf("lode failed to answer (%d %s): check lode's logs.%s", se.Code, http.StatusText(se.Code), said)
	}
	return d.describe(err)
}

func credentialsName(authType string) string {
	switch authType {
	case AuthBasic:
		return "Basic auth user and password"
	case AuthBearer:
		return "bearer token"
	}
	return "authentication settings: lode (or a proxy in front of it) requires credentials, and none are configured"
}

package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/lode-logs/lode/pkg/plugin"
)

// ModuleRoot is the directory of go.mod.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Build compiles the plugin backend (./pkg) for this machine into a temporary directory,
// named as Grafana expects (gpx_lode_<os>_<arch>), and returns its path.
func Build(t testing.TB) string {
	t.Helper()
	out, err := BuildInto(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// BuildInto is Build into a given directory (for a TestMain that builds once).
func BuildInto(dir string) (string, error) {
	name := fmt.Sprintf("gpx_lode_%s_%s", runtime.GOOS, runtime.GOARCH)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "./pkg")
	cmd.Dir = ModuleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the plugin: %v\n%s", err, b)
	}
	return out, nil
}

// Plugin is a running plugin process, started and spoken to exactly as Grafana does:
// hashicorp/go-plugin with Grafana's handshake, gRPC only, and the SDK's plugin services.
type Plugin struct {
	client      *goplugin.Client
	diagnostics grpcplugin.DiagnosticsClient
	data        grpcplugin.DataClient
	resource    grpcplugin.ResourceClient
	stream      grpcplugin.StreamClient
	logs        *syncBuffer
}

// Launch starts the binary and connects to its services. The process is killed when the
// test ends.
func Launch(t testing.TB, binary string) *Plugin {
	t.Helper()
	logs := &syncBuffer{}
	cmd := exec.Command(binary)
	// Grafana gives the plugin a small, explicit environment.
	cmd.Env = append(os.Environ(), "GF_VERSION=12.0.0", "GF_EDITION=oss", "GF_PLUGIN_VERSION=0.1.0")
	client := goplugin.NewClient(&goplugin.ClientConfig{
		Cmd: cmd,
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
			"stream":      &grpcplugin.StreamGRPCPlugin{},
		}},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "gpx_lode", Output: logs, Level: hclog.Trace}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start the plugin: %v\nplugin log:\n%s", err, logs.String())
	}
	p := &Plugin{client: client, logs: logs}
	for name, dst := range map[string]any{"diagnostics": &p.diagnostics, "data": &p.data, "resource": &p.resource, "stream": &p.stream} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
		if err := assign(dst, raw); err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
	}
	return p
}

func assign(dst, raw any) error {
	switch d := dst.(type) {
	case *grpcplugin.DiagnosticsClient:
		c, ok := raw.(grpcplugin.DiagnosticsClient)
		*d = c
		return okOr(ok, raw)
	case *grpcplugin.DataClient:
		c, ok := raw.(grpcplugin.DataClient)
		*d = c
		return okOr(ok, raw)
	case *grpcplugin.ResourceClient:
		c, ok := raw.(grpcplugin.ResourceClient)
		*d = c
		return okOr(ok, raw)
	case *grpcplugin.StreamClient:
		c, ok := raw.(grpcplugin.StreamClient)
		*d = c
		return okOr(ok, raw)
	}
	return fmt.Errorf("unknown service type %T", dst)
}

func okOr(ok bool, raw any) error {
	if !ok {
		return fmt.Errorf("unexpected client type %T", raw)
	}
	return nil
}

// Logs returns everything the plugin logged so far.
func (p *Plugin) Logs() string { return p.logs.String() }

// Exited reports whether the plugin process has exited.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Context returns the plugin context Grafana sends for a datasource instance.
func Context(s backend.DataSourceInstanceSettings) backend.PluginContext {
	s.Type = plugin.ID
	return backend.PluginContext{OrgID: 1, PluginID: plugin.ID, PluginVersion: "0.1.0", DataSourceInstanceSettings: &s,
		User: &backend.User{Login: "admin", Name: "Admin", Role: "Admin"}}
}

// CheckHealth calls the diagnostics service.
func (p *Plugin) CheckHealth(ctx context.Context, pc backend.PluginContext) (*backend.CheckHealthResult, error) {
	resp, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pc)})
	if err != nil {
		return nil, err
	}
	return backend.FromProto().CheckHealthResponse(resp), nil
}

// QueryData calls the data service.
func (p *Plugin) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	if err != nil {
		return nil, err
	}
	return backend.FromProto().QueryDataResponse(resp)
}

// CallResource calls the resource service and joins the streamed answer.
func (p *Plugin) CallResource(ctx context.Context, req *backend.CallResourceRequest) (*backend.CallResourceResponse, error) {
	stream, err := p.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(req))
	if err != nil {
		return nil, err
	}
	var out *backend.CallResourceResponse
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		r := backend.FromProto().CallResourceResponse(chunk)
		if out == nil {
			out = r
		} else {
			out.Body = append(out.Body, r.Body...)
		}
	}
	if out == nil {
		return nil, errors.New("empty resource answer")
	}
	return out, nil
}

// SubscribeStream calls the stream service's subscription check.
func (p *Plugin) SubscribeStream(ctx context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	resp, err := p.stream.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(req))
	if err != nil {
		return nil, err
	}
	return backend.FromProto().SubscribeStreamResponse(resp), nil
}

// RunStream starts a stream as Grafana does for its first subscriber. Packets arrive on the
// returned channel, which closes when the stream ends; cancelling ctx is what Grafana does when
// the last subscriber leaves. The stream's final error (nil for a clean stop) is sent on errc.
func (p *Plugin) RunStream(ctx context.Context, req *backend.RunStreamRequest) (packets <-chan []byte, errc <-chan error, err error) {
	stream, err := p.stream.RunStream(ctx, &pluginv2.RunStreamRequest{
		PluginContext: backend.ToProto().PluginContext(req.PluginContext), Path: req.Path, Data: req.Data,
	})
	if err != nil {
		return nil, nil, err
	}
	out := make(chan []byte, 64)
	ec := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			pk, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				ec <- err
				return
			}
			out <- pk.Data
		}
	}()
	return out, ec, nil
}

// syncBuffer is a bytes.Buffer safe for the plugin's log writer and the test to share.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Clone(s.b.String())
}

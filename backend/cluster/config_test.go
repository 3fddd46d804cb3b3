package cluster

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.RaftAddress != "127.0.0.1:9096" || c.Voters != 3 || c.NodeID != "" || len(c.Join) != 0 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if err := fs.Parse([]string{"-cluster.join", " a:1, b.example:9096 "}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Join, []string{"a:1", "b.example:9096"}) {
		t.Fatalf("join = %q", c.Join)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name, flag, want string // want: substring of the error, "" for valid
	}{
		{"node id", "-cluster.node-id=node-2.a_b", ""},
		{"bad node id", "-cluster.node-id=a/b", "-cluster.node-id"},
		{"node id too long", "-cluster.node-id=" + strings.Repeat("a", 65), "-cluster.node-id"},
		{"ipv6 address", "-cluster.raft-address=[::1]:9096", ""},
		{"port 0", "-cluster.raft-address=127.0.0.1:0", ""},
		{"no port", "-cluster.raft-address=127.0.0.1", "-cluster.raft-address"},
		{"no host", "-cluster.raft-address=:9096", "missing host"},
		{"unspecified host", "-cluster.raft-address=0.0.0.0:9096", "cannot be advertised"},
		{"bad port", "-cluster.raft-address=127.0.0.1:99999", "bad port"},
		{"join", "-cluster.join=10.0.0.1:9096,lode-2:9096", ""},
		{"join without port", "-cluster.join=10.0.0.1", "-cluster.join"},
		{"zero voters", "-cluster.voters=0", "-cluster.voters"},
		{"tiny heartbeat", "-cluster.heartbeat-timeout=1ms", "-cluster.heartbeat-timeout"},
		{"election below heartbeat", "-cluster.election-timeout=100ms", "-cluster.election-timeout"},
		{"lease above heartbeat", "-cluster.leader-lease-timeout=2s", "-cluster.leader-lease-timeout"},
		{"zero batch", "-cluster.apply-batch-size=0", "-cluster.apply-batch-size"},
		{"huge batch", "-cluster.apply-batch-size=100000", "-cluster.apply-batch-size"},
		{"negative linger", "-cluster.apply-linger=-1ms", "-cluster.apply-linger"},
		{"zero apply timeout", "-cluster.apply-timeout=0s", "-cluster.apply-timeout"},
		{"zero snapshot threshold", "-cluster.snapshot-threshold=0", "-cluster.snapshot-threshold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			c.RegisterFlags(fs)
			if err := fs.Parse([]string{tc.flag}); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStringListRejectsEmptyElements(t *testing.T) {
	var l StringList
	if err := l.Set("a:1,,b:2"); err == nil {
		t.Fatal("empty element accepted")
	}
	if err := l.Set(""); err != nil || len(l) != 0 {
		t.Fatalf("empty value: %q, %v", l, err)
	}
}

func TestNodeIDFromHostname(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"Lode-Node-3.example.com", "lode-node-3"},
		{"ip-10-0-0-1", "ip-10-0-0-1"},
		{"", "lode-1"},
		{"---", "lode-1"},
		{"_x", "lode-1"},
		{strings.Repeat("a", 80), strings.Repeat("a", 64)},
	} {
		if got := nodeIDFromHostname(tc.host); got != tc.want {
			t.Errorf("nodeIDFromHostname(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/api/rpc"
	"github.com/lode-logs/lode/backend/cluster"
	"github.com/lode-logs/lode/backend/internal/testutil/lodetest"
	"github.com/lode-logs/lode/backend/internal/testutil/testcerts"
	"github.com/lode-logs/lode/backend/push"
)

// TestClusterMutualTLS runs three nodes whose internal gRPC and Raft use
// mutual TLS: they form the cluster, replicate pushes and answer queries
// from each other's ingesters; peers without a certificate of the
// cluster's CA are refused on both ports.
func TestClusterMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three lode processes")
	}
	dir := t.TempDir()
	ca := testcerts.NewCA(t, dir, "lode")
	cert, key := ca.Issue("member", "127.0.0.1")
	settings := cluster.TLSConfig{CertPath: cert, KeyPath: key, CAPath: ca.Path}
	c := lodetest.StartCluster(t, 3, lodetest.ClusterOptions{Args: []string{
		"-cluster.tls-cert-path=" + cert, "-cluster.tls-key-path=" + key, "-cluster.tls-ca-path=" + ca.Path,
	}})

	// Pushed to node 0 and, unflushed, read on the others from the
	// ingesters over gRPC.
	begin := time.Now()
	req := &push.Request{}
	var want int
	for s := range 3 {
		st := push.Stream{Labels: fmt.Sprintf(`{test="tls", stream="s%d"}`, s)}
		for e := range 20 {
			st.Entries = append(st.Entries, push.Entry{Timestamp: time.Now().UnixNano(), Line: fmt.Appendf(nil, "stream %d entry %d", s, e)})
			want++
		}
		req.Streams = append(req.Streams, st)
	}
	if r, err := c.Node(0).PushProto(req); err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("push: %v %d %s", err, r.Status, r.Body)
	}
	for _, n := range c.Nodes()[1:] {
		got, err := n.Lines(`{test="tls"}`, begin.Add(-time.Second), time.Now().Add(time.Second), 1000)
		if err != nil || len(got) != want {
			t.Fatalf("%s: %d lines, want %d (%v)", n.ID, len(got), want, err)
		}
	}

	_, member, err := settings.Load()
	if err != nil {
		t.Fatal(err)
	}
	grpcAddr := "127.0.0.1:" + strconv.Itoa(c.Node(1).GRPCPort)
	series := func(cfg *tls.Config) error {
		p := rpc.NewPool(rpc.PoolOptions{DialTimeout: 2 * time.Second, TLS: cfg})
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		streams, err := p.Series(ctx, grpcAddr, "fake", begin.Add(-time.Second).UnixNano(), time.Now().UnixNano(),
			[]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "test", "tls")})
		if err == nil && len(streams) != 3 {
			return fmt.Errorf("%d streams, want 3", len(streams))
		}
		return err
	}
	if err := series(member); err != nil {
		t.Fatalf("gRPC with the cluster's certificate: %v", err)
	}
	other := testcerts.NewCA(t, dir, "other")
	ocert, okey := other.Issue("stranger", "127.0.0.1")
	_, stranger, err := (&cluster.TLSConfig{CertPath: ocert, KeyPath: okey, CAPath: ca.Path}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := series(stranger); err == nil {
		t.Fatal("gRPC with a certificate of another CA was answered")
	}
	if err := series(nil); err == nil {
		t.Fatal("plaintext gRPC was answered")
	}

	// The Raft port speaks TLS and wants a certificate of the cluster's CA.
	raftAddr := "127.0.0.1:" + strconv.Itoa(c.Node(1).RaftPort)
	handshake := func(cfg *tls.Config) error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", raftAddr, cfg)
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 servers refuse a client certificate after the client
		// finished: the refusal comes with the first read.
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, err = conn.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil // accepted: the Raft server waits for a request
		}
		if err == nil || err == io.EOF {
			return fmt.Errorf("connection ended: %v", err)
		}
		return err
	}
	if err := handshake(member); err != nil {
		t.Fatalf("Raft port with the cluster's certificate: %v", err)
	}
	if err := handshake(stranger); err == nil {
		t.Fatal("Raft port accepted a certificate of another CA")
	}
	noCert := member.Clone()
	noCert.GetClientCertificate = nil
	if err := handshake(noCert); err == nil {
		t.Fatal("Raft port accepted a peer without a certificate")
	}
}

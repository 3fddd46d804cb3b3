package cluster

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/lode-logs/lode/backend/internal/testutil/testcerts"
)

func TestTLSConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    TLSConfig
		want string // substring of the error; empty: valid
	}{
		{"off", TLSConfig{}, ""},
		{"on", TLSConfig{CertPath: "c", KeyPath: "k", CAPath: "ca"}, ""},
		{"on with server name", TLSConfig{CertPath: "c", KeyPath: "k", CAPath: "ca", ServerName: "lode"}, ""},
		{"no key", TLSConfig{CertPath: "c", CAPath: "ca"}, "must be set together"},
		{"no CA", TLSConfig{CertPath: "c", KeyPath: "k"}, "must be set together"},
		{"CA only", TLSConfig{CAPath: "ca"}, "must be set together"},
		{"server name only", TLSConfig{ServerName: "lode"}, "-cluster.tls-server-name needs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTLSConfigLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testcerts.NewCA(t, dir, "lode")
	cert, key := ca.Issue("node", "127.0.0.1")
	notPEM := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    TLSConfig
		want string
	}{
		{"missing cert", TLSConfig{CertPath: filepath.Join(dir, "nope.pem"), KeyPath: key, CAPath: ca.Path}, "-cluster.tls-cert-path"},
		{"key of another cert", TLSConfig{CertPath: cert, KeyPath: ca.Path, CAPath: ca.Path}, "-cluster.tls-key-path"},
		{"missing CA", TLSConfig{CertPath: cert, KeyPath: key, CAPath: filepath.Join(dir, "nope.pem")}, "-cluster.tls-ca-path"},
		{"CA without PEM", TLSConfig{CertPath: cert, KeyPath: key, CAPath: notPEM}, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := tc.c.Load(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load() = %v, want an error naming %q", err, tc.want)
			}
		})
	}
	s, c, err := (&TLSConfig{}).Load()
	if s != nil || c != nil || err != nil {
		t.Fatalf("Load() without settings = %v, %v, %v; want plaintext", s, c, err)
	}
}

// TestTLSStreamLayer runs the Raft stream layer: a member with a
// certificate of the cluster's CA gets through; a plaintext peer, a peer
// with a certificate of another CA, and a peer without a certificate do
// not; and a dial checks the listener's name.
func TestTLSStreamLayer(t *testing.T) {
	dir := t.TempDir()
	ca := testcerts.NewCA(t, dir, "lode")
	load := func(ca *testcerts.CA, name string, hosts ...string) (*tls.Config, *tls.Config) {
		cert, key := ca.Issue(name, hosts...)
		s, c, err := (&TLSConfig{CertPath: cert, KeyPath: key, CAPath: ca.Path}).Load()
		if err != nil {
			t.Fatal(err)
		}
		return s, c
	}
	srvS, srvC := load(ca, "a", "127.0.0.1")
	layer, err := newTLSStreamLayer("127.0.0.1:0", srvS, srvC)
	if err != nil {
		t.Fatal(err)
	}
	defer layer.Close()
	// Echo the first line of every accepted connection.
	go func() {
		for {
			c, err := layer.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 6)
				if _, err := io.ReadFull(c, buf); err == nil {
					_, _ = c.Write(buf)
				}
			}()
		}
	}()
	addr := raft.ServerAddress(layer.Addr().String())
	echo := func(c net.Conn, err error) error {
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("hello\n")); err != nil {
			return err
		}
		buf := make([]byte, 6)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if !bytes.Equal(buf, []byte("hello\n")) {
			t.Fatalf("echo %q", buf)
		}
		return nil
	}

	_, memberC := load(ca, "b", "127.0.0.1")
	member := &tlsStreamLayer{client: memberC}
	if err := echo(member.Dial(addr, 5*time.Second)); err != nil {
		t.Fatalf("member of the cluster's CA: %v", err)
	}

	other := testcerts.NewCA(t, dir, "other")
	_, strangerC := load(other, "x", "127.0.0.1")
	if err := echo((&tlsStreamLayer{client: strangerC}).Dial(addr, 5*time.Second)); err == nil {
		t.Fatal("a certificate of another CA got through")
	}

	noCert := memberC.Clone()
	noCert.GetClientCertificate = nil
	if err := echo((&tlsStreamLayer{client: noCert}).Dial(addr, 5*time.Second)); err == nil {
		t.Fatal("a peer without a certificate got through")
	}

	if err := echo(net.DialTimeout("tcp", string(addr), 5*time.Second)); err == nil {
		t.Fatal("a plaintext peer got an answer")
	}

	wrongName := memberC.Clone()
	wrongName.ServerName = "elsewhere.example"
	if err := echo((&tlsStreamLayer{client: wrongName}).Dial(addr, 5*time.Second)); err == nil {
		t.Fatal("a listener whose certificate does not name the dialled server was accepted")
	}
}

// TestTLSCertificateRenewal replaces the certificate and key files: the
// next handshake after a check presents the new certificate, and files
// caught half written keep the previous one.
func TestTLSCertificateRenewal(t *testing.T) {
	defer func(p time.Duration) { keyPairCheckPeriod = p }(keyPairCheckPeriod)
	keyPairCheckPeriod = 0
	dir := t.TempDir()
	ca := testcerts.NewCA(t, dir, "lode")
	cert, key := ca.Issue("first", "127.0.0.1")
	server, client, err := (&TLSConfig{CertPath: cert, KeyPath: key, CAPath: ca.Path}).Load()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	// presented returns the name on the listener's certificate, dialling
	// with the client settings (which present the same pair).
	presented := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), client)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := presented(); got != "first" {
		t.Fatalf("presented %q, want first", got)
	}

	newCert, newKey := ca.Issue("second", "127.0.0.1")
	move := func(from, to string, mtime time.Time) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(to, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	// Half renewed: the new certificate with the old key does not load.
	later := time.Now().Add(time.Minute)
	move(newCert, cert, later)
	if got := presented(); got != "first" {
		t.Fatalf("with a mismatched pair on disk: presented %q, want first", got)
	}
	move(newKey, key, later.Add(time.Second))
	if got := presented(); got != "second" {
		t.Fatalf("after the renewal: presented %q, want second", got)
	}
}

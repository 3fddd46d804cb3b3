package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// TLSConfig secures the traffic between members: the internal gRPC API
// and the Raft transport. With a certificate, its key and a CA set, both
// run mutual TLS: each side presents its certificate and accepts only
// peers whose certificate the CA signed. With none set, both are
// plaintext, for loopback or a private network.
type TLSConfig struct {
	CertPath   string `yaml:"cert_path"`
	KeyPath    string `yaml:"key_path"`
	CAPath     string `yaml:"ca_path"`
	ServerName string `yaml:"server_name"`
}

// RegisterFlags registers the -cluster.tls-* flags on f.
func (c *TLSConfig) RegisterFlags(f *flag.FlagSet) {
	f.StringVar(&c.CertPath, "cluster.tls-cert-path", "", "PEM certificate this node presents to other members (internal gRPC and Raft). With -cluster.tls-key-path and -cluster.tls-ca-path it turns on mutual TLS between members; empty: plaintext.")
	f.StringVar(&c.KeyPath, "cluster.tls-key-path", "", "PEM private key of -cluster.tls-cert-path.")
	f.StringVar(&c.CAPath, "cluster.tls-ca-path", "", "PEM CA certificates that sign the certificates of members; peers presenting any other certificate are refused.")
	f.StringVar(&c.ServerName, "cluster.tls-server-name", "", "Name checked against the certificates of the members this node dials. Empty: the host of the address dialled.")
}

// Enabled reports whether members talk over TLS.
func (c *TLSConfig) Enabled() bool { return c.CertPath != "" }

// Validate checks that the settings are all set or all empty.
func (c *TLSConfig) Validate() error {
	set := 0
	for _, p := range []string{c.CertPath, c.KeyPath, c.CAPath} {
		if p != "" {
			set++
		}
	}
	switch {
	case set != 0 && set != 3:
		return errors.New("-cluster.tls-cert-path, -cluster.tls-key-path and -cluster.tls-ca-path must be set together")
	case set == 0 && c.ServerName != "":
		return errors.New("-cluster.tls-server-name needs -cluster.tls-cert-path, -cluster.tls-key-path and -cluster.tls-ca-path")
	}
	return nil
}

// Load reads the certificate, key and CA and returns the TLS settings of
// the accepting side (server) and of the dialling side (client); both are
// nil when TLS is off.
func (c *TLSConfig) Load() (server, client *tls.Config, err error) {
	if !c.Enabled() {
		return nil, nil, nil
	}
	kp := &keyPair{certPath: c.CertPath, keyPath: c.KeyPath}
	if err := kp.load(); err != nil {
		return nil, nil, err
	}
	pem, err := os.ReadFile(c.CAPath)
	if err != nil {
		return nil, nil, fmt.Errorf("-cluster.tls-ca-path: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("-cluster.tls-ca-path %s: no PEM certificate in it", c.CAPath)
	}
	server = &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get(), nil },
		ClientCAs:      pool,
		ClientAuth:     tls.RequireAndVerifyClientCert,
		MinVersion:     tls.VersionTLS13,
	}
	client = &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get(), nil },
		RootCAs:              pool,
		ServerName:           c.ServerName,
		MinVersion:           tls.VersionTLS13,
	}
	return server, client, nil
}

// keyPairCheckPeriod is how often a handshake checks whether the
// certificate or key file changed.
var keyPairCheckPeriod = 10 * time.Second

// keyPair is a certificate and key read from files and read again when
// either file changes, so that a renewed certificate (cert-manager's, say)
// is used without a restart. A renewal that fails to load (files caught
// half written) keeps the previous pair until the next check.
type keyPair struct {
	certPath, keyPath string

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]time.Time // modification times of the files loaded
	checked time.Time
}

func (k *keyPair) load() error {
	st, err := k.stamps()
	if err == nil {
		var cert tls.Certificate
		if cert, err = tls.LoadX509KeyPair(k.certPath, k.keyPath); err == nil {
			k.cert, k.stamp = &cert, st
			return nil
		}
	}
	return fmt.Errorf("-cluster.tls-cert-path %s, -cluster.tls-key-path %s: %w", k.certPath, k.keyPath, err)
}

func (k *keyPair) stamps() (st [2]time.Time, err error) {
	for i, p := range []string{k.certPath, k.keyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return st, err
		}
		st[i] = fi.ModTime()
	}
	return st, nil
}

// get returns the current pair, loading the files again first when a
// check is due and they changed.
func (k *keyPair) get() *tls.Certificate {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now := time.Now(); now.Sub(k.checked) >= keyPairCheckPeriod {
		k.checked = now
		if st, err := k.stamps(); err == nil && st != k.stamp {
			_ = k.load() // on failure the previous pair stays
		}
	}
	return k.cert
}

// tlsStreamLayer is a raft.StreamLayer over mutual TLS. The handshake of
// an accepted connection runs on its first read, on the transport's
// goroutine for that connection, as a plaintext connection's first read
// would.
type tlsStreamLayer struct {
	ln     net.Listener
	client *tls.Config
}

func newTLSStreamLayer(bind string, server, client *tls.Config) (*tlsStreamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	return &tlsStreamLayer{ln: tls.NewListener(ln, server), client: client}, nil
}

func (l *tlsStreamLayer) Accept() (net.Conn, error) { return l.ln.Accept() }
func (l *tlsStreamLayer) Close() error              { return l.ln.Close() }
func (l *tlsStreamLayer) Addr() net.Addr            { return l.ln.Addr() }

// Dial connects to the Raft transport at address and completes the
// handshake within timeout.
func (l *tlsStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	cfg := l.client
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(string(address))
		if err != nil {
			return nil, err
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: cfg}
	return d.Dial("tcp", string(address))
}

// Raft transport settings: connections pooled per peer, and the I/O
// deadline of a request.
const (
	raftMaxPool = 3
	raftTimeout = 10 * time.Second
)

// newRaftTransport starts the Raft transport on bind: plaintext TCP, or
// mutual TLS when server and client are set.
func newRaftTransport(bind string, server, client *tls.Config, hlog hclog.Logger) (*raft.NetworkTransport, error) {
	if server == nil {
		return raft.NewTCPTransportWithLogger(bind, nil, raftMaxPool, raftTimeout, hlog)
	}
	layer, err := newTLSStreamLayer(bind, server, client)
	if err != nil {
		return nil, err
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: raftMaxPool, Timeout: raftTimeout, Logger: hlog,
	}), nil
}

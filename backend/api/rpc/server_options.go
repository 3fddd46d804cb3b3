package rpc

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Keepalive of connections, for loopback and LAN peers: a silent peer is
// noticed within about clientPingTime+clientPingTimeout; the server
// tolerates the client's pings and checks idle clients itself.
const (
	clientPingTime    = 15 * time.Second
	clientPingTimeout = 5 * time.Second
	serverPingMinTime = 10 * time.Second // must stay below clientPingTime
	serverPingTime    = 1 * time.Minute
	serverPingTimeout = 10 * time.Second
)

// ServerOptions are the options a gRPC server serving Lode's services
// needs: message size limits matching the Pool's (MaxMessageSize) and a
// keepalive policy that accepts the Pool's pings. Without them large
// pushes are refused and the server closes pooled connections for pinging
// too often.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             serverPingMinTime,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    serverPingTime,
			Timeout: serverPingTimeout,
		}),
	}
}

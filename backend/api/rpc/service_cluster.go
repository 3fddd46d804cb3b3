package rpc

import (
	"context"

	"google.golang.org/grpc"
)

// Full method name of lode.Cluster's one method.
const MethodClusterCall = "/lode.Cluster/Call"

// ClusterHandler serves cluster operations: op names an operation ("join",
// "leave", "apply", "heartbeat", ...), body and result are opaque bytes
// defined by package cluster. The handler owns body (a fresh copy). A
// returned error reaches the client as a gRPC status whose message is
// err.Error(): errors wrapping ErrNotLeader as codes.FailedPrecondition,
// context errors as Canceled / DeadlineExceeded, others per FORMAT.md
// (Internal when nothing more specific fits). Calls are concurrent.
type ClusterHandler func(ctx context.Context, op string, body []byte) ([]byte, error)

// clusterServer serves lode.Cluster over a ClusterHandler.
type clusterServer struct {
	h ClusterHandler
}

// clusterService is the HandlerType of lode.Cluster.
type clusterService interface {
	call(ctx context.Context, req *clusterRequest) (*clusterReply, error)
}

// RegisterCluster registers the lode.Cluster service on s, served by h.
func RegisterCluster(s *grpc.Server, h ClusterHandler) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "lode.Cluster",
		HandlerType: (*clusterService)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Call", Handler: handleClusterCall}},
		Metadata:    "backend/api/rpc/FORMAT.md",
	}, &clusterServer{h: h})
}

func (s *clusterServer) call(ctx context.Context, req *clusterRequest) (*clusterReply, error) {
	body, err := s.h(ctx, req.Op, req.Body)
	if err != nil {
		return nil, statusError(err)
	}
	return &clusterReply{Body: body}, nil
}

func handleClusterCall(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*clusterServer)
	req := new(clusterRequest)
	if err := dec(req); err != nil {
		return nil, err
	}
	if req.decodeErr != nil {
		return nil, requestError(req.decodeErr)
	}
	h := func(ctx context.Context, r any) (any, error) { return s.call(ctx, r.(*clusterRequest)) }
	if ic == nil {
		return h(ctx, req)
	}
	return ic(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: MethodClusterCall}, h)
}

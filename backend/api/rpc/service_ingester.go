package rpc

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/grpc"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// Full method names of lode.Ingester.
const (
	MethodPush   = "/lode.Ingester/Push"
	MethodQuery  = "/lode.Ingester/Query"
	MethodSeries = "/lode.Ingester/Series"
)

// Ingester is what the lode.Ingester service serves (*ingester.Ingester
// implements it). Methods are called concurrently.
type Ingester interface {
	// Push makes streams durable. It must not retain streams, their entries
	// or lines once it returns: they are views of a receive buffer that is
	// reused. Labels and metadata are fresh memory and may be kept.
	Push(ctx context.Context, tenant string, streams []model.Stream) error
	// Query returns entries in sel.Direction order; the server closes the
	// iterator, also when the client goes away.
	Query(ctx context.Context, sel model.LogSelect) (iter.EntryIterator, error)
	// Series returns the streams matching ms with data in [from, through].
	Series(ctx context.Context, tenant string, from, through int64, ms []*labels.Matcher) ([]index.Stream, error)
}

// ingesterServer serves lode.Ingester over an Ingester.
type ingesterServer struct {
	ing      Ingester
	bufs     *bufPool
	requests sync.Pool // *pushRequest
	pushFn   grpc.UnaryHandler
}

// RegisterIngester registers the lode.Ingester service on s, served by ing.
func RegisterIngester(s *grpc.Server, ing Ingester) {
	srv := &ingesterServer{ing: ing, bufs: new(bufPool)}
	srv.requests.New = func() any { return &pushRequest{pool: srv.bufs} }
	srv.pushFn = func(ctx context.Context, req any) (any, error) {
		r := req.(*pushRequest)
		if err := srv.ing.Push(ctx, r.Tenant, r.Streams); err != nil {
			return nil, statusError(err)
		}
		return emptyReply{}, nil
	}
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "lode.Ingester",
		HandlerType: (*ingesterService)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Push", Handler: handlePush},
			{MethodName: "Series", Handler: handleSeries},
		},
		Streams: []grpc.StreamDesc{
			{StreamName: "Query", Handler: handleQuery, ServerStreams: true},
		},
		Metadata: "backend/api/rpc/FORMAT.md",
	}, srv)
}

// ingesterService is the HandlerType of lode.Ingester.
type ingesterService interface {
	query(grpc.ServerStream) error
}

func handlePush(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*ingesterServer)
	req := s.requests.Get().(*pushRequest)
	defer func() {
		req.reset()
		s.requests.Put(req)
	}()
	if err := dec(req); err != nil {
		return nil, err
	}
	if req.decodeErr != nil {
		return nil, requestError(req.decodeErr)
	}
	if ic == nil {
		return s.pushFn(ctx, req)
	}
	return ic(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: MethodPush}, s.pushFn)
}

func handleSeries(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	s := srv.(*ingesterServer)
	req := new(seriesRequest)
	if err := dec(req); err != nil {
		return nil, err
	}
	if req.decodeErr != nil {
		return nil, requestError(req.decodeErr)
	}
	h := func(ctx context.Context, r any) (any, error) {
		req := r.(*seriesRequest)
		streams, err := s.ing.Series(ctx, req.Tenant, req.From, req.Through, req.Matchers)
		if err != nil {
			return nil, statusError(err)
		}
		return &seriesReply{Streams: streams}, nil
	}
	if ic == nil {
		return h(ctx, req)
	}
	return ic(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: MethodSeries}, h)
}

func handleQuery(srv any, stream grpc.ServerStream) error {
	return srv.(*ingesterServer).query(stream)
}

// query runs the Ingester's query and streams its entries in batches.
func (s *ingesterServer) query(stream grpc.ServerStream) error {
	var req queryRequest
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	if req.decodeErr != nil {
		return requestError(req.decodeErr)
	}
	ctx := stream.Context()
	it, err := s.ing.Query(ctx, req.Sel)
	if err != nil {
		return statusError(err)
	}
	if it == nil {
		it = iter.Empty[model.StreamEntry]()
	}
	// The header tells the client that the query started.
	sendErr := stream.SendHeader(nil)
	var itErr error
	if sendErr == nil {
		itErr, sendErr = s.sendEntries(ctx, stream, it)
	}
	cerr := it.Close()
	switch {
	case sendErr != nil:
		return sendErr // a gRPC status already; the client gets nothing more
	case itErr != nil:
		return statusError(itErr)
	case cerr != nil:
		return statusError(fmt.Errorf("close query: %w", cerr))
	}
	return nil
}

// sendEntries sends the entries of it in batches of about maxBatchBytes.
// It returns the iterator's error (or the context's) after sending the
// entries before it, and the error of a send.
func (s *ingesterServer) sendEntries(ctx context.Context, stream grpc.ServerStream, it iter.EntryIterator) (itErr, sendErr error) {
	w := newBatchWriter(s.bufs)
	defer w.release()
	for n := 1; it.Next(); n++ {
		e := it.At()
		w.add(&e)
		if w.size() >= maxBatchBytes {
			if err := stream.SendMsg(w); err != nil {
				return nil, err
			}
		}
		if n%1024 == 0 {
			if itErr = ctx.Err(); itErr != nil {
				break
			}
		}
	}
	if itErr == nil {
		itErr = it.Err()
	}
	if w.count() > 0 {
		if err := stream.SendMsg(w); err != nil {
			return nil, err
		}
	}
	return itErr, nil
}

// requestError is the status of a request that failed to decode.
func requestError(decodeErr error) error {
	return statusError(fmt.Errorf("decode request: %w", decodeErr))
}

package rpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lode-logs/lode/backend/index"
	"github.com/lode-logs/lode/backend/ingester"
)

// Sentinel errors of the package. Returned errors wrap them; branch with
// errors.Is.
var (
	// ErrNotLeader is wrapped by a ClusterHandler's error when the node is
	// not the Raft leader. It crosses the wire as codes.FailedPrecondition:
	// on the client, errors.Is(err, ErrNotLeader) holds for the call's
	// error, whose message is the server's.
	ErrNotLeader = errors.New("not the raft leader")

	// ErrPoolClosed is returned by calls on a Pool once Close has begun.
	ErrPoolClosed = errors.New("rpc pool closed")

	// ErrMalformed reports a message that does not decode (truncated,
	// unknown version, bad matcher). A server answers it with
	// codes.InvalidArgument.
	ErrMalformed = errors.New("malformed rpc message")
)

// RemoteError is the error of a call that reached gRPC: the server's
// status (or the status gRPC made up locally, for example Unavailable when
// the address cannot be dialled). errors.Is matches it against
// ErrNotLeader (FailedPrecondition), context.Canceled (Canceled) and
// context.DeadlineExceeded (DeadlineExceeded).
type RemoteError struct {
	Method  string // full gRPC method, e.g. "/lode.Ingester/Push"
	Addr    string // the server's address
	Code    codes.Code
	Message string // the server's message
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("rpc %s to %s: %s (%s)", e.Method, e.Addr, e.Message, e.Code)
}

// Is makes errors.Is see the sentinel a code stands for.
func (e *RemoteError) Is(target error) bool {
	switch e.Code {
	case codes.FailedPrecondition:
		return target == ErrNotLeader
	case codes.Canceled:
		return target == context.Canceled
	case codes.DeadlineExceeded:
		return target == context.DeadlineExceeded
	}
	return false
}

// GRPCStatus lets status.Code and status.FromError read the code.
func (e *RemoteError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// IsClientError reports whether err is a call that failed because the
// request itself is wrong (codes.InvalidArgument or OutOfRange): sending it
// to another replica, or again, cannot help. It is false for failures of
// the replica (Unavailable, ResourceExhausted, Internal...) and for local
// errors.
func IsClientError(err error) bool {
	var re *RemoteError
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == codes.InvalidArgument || re.Code == codes.OutOfRange
}

// remoteError turns the error of a gRPC call into a *RemoteError.
func remoteError(method, addr string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("rpc %s to %s: %w", method, addr, err)
	}
	return &RemoteError{Method: method, Addr: addr, Code: st.Code(), Message: st.Message()}
}

// statusError turns a handler's error into the gRPC status the client
// receives: the code per codeOf, the message err.Error().
func statusError(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codeOf(err), err.Error())
}

// codeOf maps an error to its gRPC code. Sentinels come first so that a
// wrapped error keeps the meaning of its cause; an error carrying its own
// gRPC status keeps its code.
func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, ErrNotLeader):
		return codes.FailedPrecondition
	case errors.Is(err, ErrMalformed), errors.Is(err, index.ErrMatchersEmpty):
		return codes.InvalidArgument
	case errors.Is(err, ingester.ErrDiskFull):
		return codes.ResourceExhausted
	case errors.Is(err, ingester.ErrClosed), errors.Is(err, ingester.ErrStorage):
		return codes.Unavailable
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		if st := se.GRPCStatus(); st != nil && st.Code() != codes.OK {
			return st.Code()
		}
	}
	return codes.Internal
}

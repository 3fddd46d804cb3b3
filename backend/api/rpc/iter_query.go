package rpc

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/lode-logs/lode/backend/iter"
	"github.com/lode-logs/lode/backend/model"
)

// Query asks the ingester at addr for the entries of sel and returns them
// as an iterator that receives the server's batches as it advances, in
// the server's order. Query returns once the server started the query, so
// that errors of its start (a bad matcher, a closed ingester) are returned
// here; later errors are the iterator's Err. Close cancels the stream.
// Entries are valid until the next Next, as iter's contract says.
func (p *Pool) Query(ctx context.Context, addr string, sel model.LogSelect) (iter.EntryIterator, error) {
	c, err := p.conn(addr)
	if err != nil {
		return nil, fmt.Errorf("rpc %s to %s: %w", MethodQuery, addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	q := &queryIter{p: p, addr: addr, conn: c, cancel: cancel, start: time.Now(), batch: queryBatch{pool: p.bufs}}
	if err := q.open(ctx, c.cc, &sel); err != nil {
		q.finish(err)
		return nil, q.err
	}
	return q, nil
}

// queryIter is the client iterator of a Query stream. Not goroutine-safe.
type queryIter struct {
	p        *Pool
	addr     string
	conn     *poolConn // its call ends with finish
	cancel   context.CancelFunc
	start    time.Time
	cs       grpc.ClientStream
	batch    queryBatch
	cur      model.StreamEntry
	err      error
	eof      bool // the server ended the stream; only batch is left
	finished bool
}

// open starts the stream, sends the request and waits for the server's
// header, which it sends once the query started.
func (q *queryIter) open(ctx context.Context, c *grpc.ClientConn, sel *model.LogSelect) error {
	cs, err := c.NewStream(ctx, &q.p.queryDesc, MethodQuery)
	if err != nil {
		return err
	}
	q.cs = cs
	// On io.EOF the stream already ended: its status comes with RecvMsg.
	if err := cs.SendMsg(&queryRequest{Sel: *sel}); err != nil && err != io.EOF {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	if md, err := cs.Header(); err != nil || md != nil {
		return err
	}
	// No header: the server ended the stream at once (with an error,
	// usually).
	switch err := cs.RecvMsg(&q.batch); {
	case err == io.EOF:
		q.eof = true
	case err != nil:
		return q.recvError(err)
	}
	return nil
}

func (q *queryIter) Next() bool {
	for !q.finished {
		if q.batch.next(&q.cur) {
			return true
		}
		if err := q.batch.err(); err != nil {
			q.finish(fmt.Errorf("query batch: %w", err))
			return false
		}
		if q.eof {
			q.finish(nil)
			return false
		}
		switch err := q.cs.RecvMsg(&q.batch); {
		case err == io.EOF:
			q.eof = true
		case err != nil:
			q.finish(q.recvError(err))
			return false
		}
	}
	return false
}

// recvError prefers the decoding error of a batch to gRPC's report of it.
func (q *queryIter) recvError(err error) error {
	if berr := q.batch.err(); berr != nil {
		return fmt.Errorf("query batch: %w", berr)
	}
	return err
}

func (q *queryIter) At() model.StreamEntry { return q.cur }
func (q *queryIter) Err() error            { return q.err }

// Close cancels the stream if it is still running.
func (q *queryIter) Close() error {
	if !q.finished {
		q.finish(status.Error(codes.Canceled, "query closed by the client"))
		q.err = nil
	}
	return nil
}

// finish ends the stream: records it, cancels its context, frees the batch
// and keeps err (nil at the end of the stream) for Err.
func (q *queryIter) finish(err error) {
	q.finished = true
	q.p.metrics.observe(MethodQuery, q.start, err)
	q.cancel()
	q.conn.end()
	q.batch.release()
	q.cur = model.StreamEntry{}
	switch {
	case err == nil:
	case isStatus(err):
		err = remoteError(MethodQuery, q.addr, err)
	default:
		err = fmt.Errorf("rpc %s to %s: %w", MethodQuery, q.addr, err)
	}
	q.err = err
}

func isStatus(err error) bool {
	_, ok := status.FromError(err)
	return ok
}

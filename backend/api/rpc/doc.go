// Package rpc is Lode's internal gRPC API between nodes: the lode.Ingester
// service (Push, server-streamed Query, Series) that distributors and
// queriers call on ingesters, and the lode.Cluster service (one Call
// carrying an operation name and opaque bytes) that package cluster uses.
// Services are declared by hand (grpc.ServiceDesc); messages encode
// themselves in the binary format of FORMAT.md through the codec
// registered, at package load, under content-subtype "lode".
//
// Main types: Ingester and ClusterHandler (what servers serve, registered
// with RegisterIngester and RegisterCluster on a server built with
// ServerOptions), Pool (the client: one lazily dialled, reused connection
// per address; Prune closes idle connections to addresses that left the
// cluster; PoolOptions.TLS secures them, the server taking the matching
// credentials), RemoteError and IsClientError (errors of calls).
//
// Invariants: lines cross the wire byte-exact (any bytes, empty included)
// with their metadata; Query batches are at most about 1 MiB, sent in the
// server iterator's order, each naming a stream's labels once. Server
// errors become gRPC statuses by one mapping (codeOf, FORMAT.md), turned
// back into *RemoteError on the client.
//
// Goroutine-safety: Pool's methods and the servers' handlers are safe for
// concurrent use; the iterator Pool.Query returns is not.
//
// Buffers: Pool.Push encodes into a pooled buffer and keeps nothing of its
// arguments. On the server, Push's lines are views of a reused receive
// buffer, valid only until Ingester.Push returns; labels and metadata are
// fresh memory. Query entries are valid until the iterator's next Next.
// Series and ClusterCall results belong to the caller.
//
// THREADS: none of its own; gRPC runs one goroutine per server call and
// per connection. A Query stream lives until its iterator ends or is
// closed (which cancels it); the server closes the Ingester's iterator
// when the stream ends for any reason.
package rpc

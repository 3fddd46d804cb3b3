// Package sender ships entries to Loki-compatible push endpoints: one
// Client per configured URL batches entries per tenant (by size and age),
// encodes each batch once as snappy-compressed protobuf (push.Request),
// and sends batches in order, one request at a time, retrying network
// errors, 429 and 5xx answers with exponential backoff.
//
// Acknowledgement: a batch keeps the ack tokens of its lines and releases
// them only when the server accepted it, or refused it for good (a 400
// rejects only the entries it names: the server wrote the rest; other 4xx
// drop the batch; both are counted by reason). Lines never acknowledged
// stay before the files' committed offsets and are read again after a
// restart.
//
// Buffering: sealed batches wait in a queue, in memory up to
// BufferMemory bytes, then in segment files under BufferDir up to
// BufferDisk bytes; when both are full, Client.Handle blocks, which stops
// the tailer from reading (backpressure) instead of dropping lines. The
// on-disk buffer is emptied at start: its lines were not acknowledged and
// are read again from their files.
//
// THREADS: each Client runs a timer goroutine (seals batches older than
// BatchWait) and a sender goroutine (owns the front of the queue).
// Handle may be called from any goroutine; Client.mu guards the open
// batches, queue.mu the queue and the spool.
package sender

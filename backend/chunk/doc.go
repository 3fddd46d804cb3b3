// Package chunk owns Lode's on-disk chunk format (version 1, FORMAT.md): the
// object that holds the entries of one stream over a time range, made of
// independently compressed blocks, a block index with per-block token
// filters, and a checksummed footer.
//
// Main types:
//   - BlockBuilder accumulates entries of a head block in any order and
//     Encode turns them into an encoded block plus its BlockMeta. The block
//     depends only on the set of entries: entries are sorted by (timestamp,
//     line) and identical adjacent (timestamp, line) entries are dropped.
//   - Encode assembles header, blocks, block index and footer into a chunk;
//     the bytes depend only on the header and the set of blocks. ObjectKey
//     names it by content.
//   - Decode checks header, index and footer checksums and returns a Chunk;
//     Chunk.Entries and BlockEntries iterate entries in either direction,
//     skipping blocks outside the time range or ruled out by needles
//     (BlockMeta.MayContain never gives a false negative), and verify each
//     block's checksum when it is read; with ReadOptions.FilterLines they
//     also drop lines that lack a needle, found by one scan of a block's
//     decompressed lines (needleSearch: IndexByte hops to the needle's
//     rarest byte). A block wholly in the time range whose lines section
//     holds no instance of the longest needle has nothing else decoded.
//     Bad bytes give ErrCorrupt, never a panic.
//   - BlockScanner decodes whole columns of a block (timestamps, and the
//     Columns asked for: line lengths, lines, metadata) for callers that
//     aggregate rather than iterate: windows by binary search over the
//     timestamps, bytes from line lengths, NextMatch over the lines
//     (LoadMatching decodes the other columns only when a line may
//     match, as FilterLines reads do). It
//     packs timestamps and lengths for in-memory caches (AppendPacked...)
//     and loads them back with no decompression (LoadPacked...); no
//     checksum covers packed data, so only its structure is checked.
//
// Invariants: blocks hold at most MaxBlockSize bytes per section; every
// byte read from outside is checked (CRC32-C on header, index, footer and
// each block, then bounds on every length) before it is trusted.
//
// Goroutine-safety: a Chunk is safe for concurrent reads; iterators and
// BlockBuilders are not, and ReadOptions.Stats must not be shared between
// concurrent reads. Codec state is process-wide and goroutine-safe: per
// zstd level a free list of up to GOMAXPROCS encoders (so concurrent
// Encodes compress in parallel), one zstd decoder, all created on first use
// (EncodeAll and DecodeAll run on the caller's goroutine), and a sync.Pool
// of block reader buffers. The package starts no goroutines of its own (the zstd
// decoder keeps no background goroutines for DecodeAll).
//
// Buffers: Decode aliases the data passed in, which must stay unchanged
// while the Chunk is used. Entry.Line returned by an iterator aliases a
// pooled buffer and is valid until the next Next or Close; Metadata labels
// may be retained. BlockBuilder.Append copies its arguments; Encode appends
// to dst and the returned BlockMeta owns its Filter.
package chunk

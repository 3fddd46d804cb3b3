package ingester

import "encoding/binary"

// Key prefixes of the Badger layout (FORMAT.md).
const (
	prefixFormat    byte = 0x00
	prefixStream    byte = 0x01
	prefixBlockMeta byte = 0x02
	prefixBlockData byte = 0x03
	prefixCut       byte = 0x04
	prefixWAL       byte = 0x05
	// prefixPin is never written; an iterator over it pins Badger's value
	// log files for the life of a query (see query.go).
	prefixPin byte = 0xff
)

// formatVersion is the version of the layout in FORMAT.md. Databases of
// version 1 (no compressed WAL records) are read and upgraded on open.
const formatVersion byte = 2

// recordVersion is the version byte that starts every record value; WAL
// records may also start with walVersionS2 (body s2-compressed).
const (
	recordVersion byte = 1
	walVersionS2  byte = 2
)

var formatKey = []byte{prefixFormat, 'f', 'o', 'r', 'm', 'a', 't'}

const (
	streamKeyLen = 1 + 8
	walKeyLen    = 1 + 8 + 8
	cutKeyLen    = 1 + 8 + 8
	blockKeyLen  = 1 + 8 + 8 + 8
)

// appendKey appends prefix followed by each id as 8 big-endian bytes.
func appendKey(dst []byte, prefix byte, ids ...uint64) []byte {
	dst = append(dst, prefix)
	for _, id := range ids {
		dst = binary.BigEndian.AppendUint64(dst, id)
	}
	return dst
}

func streamKey(sid uint64) []byte { return appendKey(make([]byte, 0, streamKeyLen), prefixStream, sid) }

func walKey(dst []byte, sid, wseq uint64) []byte { return appendKey(dst, prefixWAL, sid, wseq) }

func cutKey(sid, cseq uint64) []byte {
	return appendKey(make([]byte, 0, cutKeyLen), prefixCut, sid, cseq)
}

func blockMetaKey(sid, cseq, bseq uint64) []byte {
	return appendKey(make([]byte, 0, blockKeyLen), prefixBlockMeta, sid, cseq, bseq)
}

func blockDataKey(sid, cseq, bseq uint64) []byte {
	return appendKey(make([]byte, 0, blockKeyLen), prefixBlockData, sid, cseq, bseq)
}

// parseKey splits a key of the given length into its ids; ok is false if
// the key does not have that shape.
func parseKey(key []byte, prefix byte, n int) (ids [3]uint64, ok bool) {
	if len(key) != 1+8*n || key[0] != prefix {
		return ids, false
	}
	for i := 0; i < n; i++ {
		ids[i] = binary.BigEndian.Uint64(key[1+8*i:])
	}
	return ids, true
}

package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Stored values carry their format in badger's per-entry UserMeta byte, so
// unversioned values are stored as is and need no header.
const (
	// metaVersioned: the value starts with the 8-byte big-endian version of
	// the op that wrote it.
	metaVersioned byte = 1 << 0
	// metaTombstone: a versioned delete. The key reads as missing, but its
	// version (the whole value) still fences stale writers.
	metaTombstone byte = 1 << 1

	versionSize = 8
)

var errShortHeader = errors.New("versioned value shorter than its 8-byte header")

// decodeValue splits a stored value into its payload and version. gone is
// true for a tombstone. An unknown format is reported as an error, which
// callers wrap in a CorruptError for the key.
func decodeValue(userMeta byte, raw []byte) (payload []byte, version uint64, gone bool, err error) {
	switch userMeta {
	case 0:
		return raw, 0, false, nil
	case metaVersioned, metaVersioned | metaTombstone:
		if len(raw) < versionSize {
			return nil, 0, false, errShortHeader
		}
		version = binary.BigEndian.Uint64(raw)
		return raw[versionSize:], version, userMeta&metaTombstone != 0, nil
	default:
		return nil, 0, false, fmt.Errorf("unknown value format %#x", userMeta)
	}
}

// encodedSize is the size op's value takes in the store.
func encodedSize(op *Op) int {
	switch {
	case op.Version == 0 && op.Delete:
		return 0
	case op.Version == 0:
		return len(op.Value)
	case op.Delete:
		return versionSize
	default:
		return versionSize + len(op.Value)
	}
}

// appendValue appends op's stored form to buf and returns it with the
// UserMeta byte to store with it.
func appendValue(buf []byte, op *Op) ([]byte, byte) {
	if op.Version == 0 {
		return append(buf, op.Value...), 0
	}
	buf = binary.BigEndian.AppendUint64(buf, op.Version)
	if op.Delete {
		return buf, metaVersioned | metaTombstone
	}
	return append(buf, op.Value...), metaVersioned
}

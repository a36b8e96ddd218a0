package persistence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// A damaged table block (say 4 KB of zeros on disk) is invisible to
// badger's reads: depending on the bytes, a read panics, or the block reads
// as empty, so its keys read as missing or as an older version and a scan
// silently stops at it. Open therefore verifies every block's checksum and
// the store answers the keys of a damaged block with a *CorruptError
// unless their newest version is newer than the damaged table (they were
// written again). Badger's compaction would drop the rest of a
// damaged table or panic in a goroutine of its own; with damage, Open runs
// badger without compaction and writes are refused (ErrDamaged) before
// level 0 fills up. The damage is logged: restore the data dir from a
// backup.

// maxL0Damaged is how many level-0 tables a damaged store (no compaction)
// may have before writes are refused; badger stalls writes at
// NumLevelZeroTablesStall (12).
const maxL0Damaged = 9

// DamagedBlock describes a table block whose checksum does not match.
type DamagedBlock struct {
	Table    string // the table file, e.g. "000001.sst"
	Block    int    // the block's index in the table
	FirstKey []byte // the first key in the block (badger's full key, without version)
	NextKey  []byte // the first key of the next block
}

type damagedBlock struct {
	DamagedBlock
	table      uint64
	maxVersion uint64 // the table's newest badger version: a newer value was written since
}

// checkTable verifies a table file the way badger reads it: the footer and
// index, whose damage makes badger fail or panic when it opens the table
// (in a goroutine of its own, taking the process down), and the checksum
// of every block, whose damage it returns. A damaged last block is an
// error too: badger reads it when it opens the table.
func checkTable(path string, id uint64, tm badger.TableManifest) ([]damagedBlock, error) {
	data, err := os.ReadFile(path) // tables are at most a few tens of MB
	if err != nil {
		return nil, err
	}
	index, err := tableIndex(data)
	if err != nil {
		return nil, err
	}
	if tm.Compression != options.None || tm.KeyID != 0 {
		return nil, nil // not written by this build; the footer check is all we can do
	}
	return checkBlocks(data, index, id)
}

// tableIndex checks a table's footer and index checksum and returns the
// index, bounds checked.
func tableIndex(data []byte) ([]byte, error) {
	end := len(data)
	if end < 4 {
		return nil, errors.New("file too short for its checksum length")
	}
	end -= 4
	n := int(binary.BigEndian.Uint32(data[end:]))
	if n > end {
		return nil, errors.New("checksum length past the start of the file")
	}
	var sum pb.Checksum
	if proto.Unmarshal(data[end-n:end], &sum) != nil {
		return nil, errors.New("cannot decode the index checksum")
	}
	end -= n
	if end < 4 {
		return nil, errors.New("file too short for its index length")
	}
	end -= 4
	n = int(binary.BigEndian.Uint32(data[end:]))
	if n > end {
		return nil, errors.New("index length past the start of the file")
	}
	if !checksumOK(data[end-n:end], &sum) {
		return nil, errors.New("index checksum mismatch")
	}
	return data[end-n : end], nil
}

// checkBlocks verifies each block listed in index.
func checkBlocks(data, index []byte, id uint64) (damaged []damagedBlock, err error) {
	defer func() { // the index passed its checksum; this is for a badger bug
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read its index: %v", r)
		}
	}()
	ti := fb.GetRootAsTableIndex(index, 0)
	n := ti.OffsetsLength()
	var ko, next fb.BlockOffset
	for i := range n {
		ti.Offsets(&ko, i)
		start, size := int(ko.Offset()), int(ko.Len())
		if start+size > len(data) {
			return nil, fmt.Errorf("block %d ends past the end of the file", i)
		}
		if blockOK(data[start : start+size]) {
			continue
		}
		if i == n-1 {
			return nil, fmt.Errorf("its last block (%d) is damaged", i)
		}
		ti.Offsets(&next, i+1)
		damaged = append(damaged, damagedBlock{table: id, maxVersion: ti.MaxVersion(), DamagedBlock: DamagedBlock{
			Block: i, FirstKey: userKey(ko.KeyBytes()), NextKey: userKey(next.KeyBytes()),
		}})
	}
	return damaged, nil
}

// blockOK verifies a block's checksum (see badger's table.block).
func blockOK(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	end := len(b) - 4
	n := int(binary.BigEndian.Uint32(b[end:]))
	if n > end-4 {
		return false
	}
	var sum pb.Checksum
	if proto.Unmarshal(b[end-n:end], &sum) != nil {
		return false
	}
	return checksumOK(b[:end-n], &sum)
}

// checksumOK is y.VerifyChecksum, which panics on an unknown algorithm.
func checksumOK(data []byte, sum *pb.Checksum) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return y.VerifyChecksum(data, sum) == nil
}

// userKey strips badger's 8-byte version from an internal key.
func userKey(k []byte) []byte {
	if len(k) < 8 {
		return append([]byte(nil), k...)
	}
	return append([]byte(nil), k[:len(k)-8]...)
}

// damage is what Open found damaged. It does not change after Open.
type damage struct {
	blocks []damagedBlock
	scans  []keyRange // per damaged table: from its first damaged block to its last key
}

type keyRange struct{ lo, hi []byte } // inclusive

// newDamage returns nil for no damage. tables are the open store's.
func newDamage(blocks []damagedBlock, tables []badger.TableInfo) *damage {
	if len(blocks) == 0 {
		return nil
	}
	d := &damage{blocks: blocks}
	for _, t := range tables {
		for _, b := range blocks {
			if b.table == t.ID {
				d.scans = append(d.scans, keyRange{b.FirstKey, userKey(t.Right)})
				break
			}
		}
	}
	return d
}

// suspect returns the damaged block that may hold key, or nil. Versions of
// one key may span two blocks, hence NextKey is included.
func (d *damage) suspect(key []byte) *damagedBlock {
	for i := range d.blocks {
		b := &d.blocks[i]
		if bytes.Compare(key, b.FirstKey) >= 0 && bytes.Compare(key, b.NextKey) <= 0 {
			return b
		}
	}
	return nil
}

// scanHits reports whether a scan of the keys starting with prefix may
// have skipped keys of a damaged table.
func (d *damage) scanHits(prefix []byte) bool {
	for _, r := range d.scans {
		// [lo, hi] meets the keys with prefix, [prefix, successor of prefix).
		if bytes.Compare(r.hi, prefix) >= 0 && (bytes.Compare(r.lo, prefix) < 0 || bytes.HasPrefix(r.lo, prefix)) {
			return true
		}
	}
	return false
}

// trusted reports whether the newest version of key, which may be in
// damaged block b, was written after b's table (then it was read from a
// newer table or memtable and is sound). item and err are txn.Get's.
func trusted(txn *badger.Txn, key []byte, item *badger.Item, err error, b *damagedBlock) bool {
	if err == nil {
		return item.Version() > b.maxVersion
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return false
	}
	// A deletion newer than the table is a sound "not found".
	it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, Prefix: key})
	defer it.Close()
	it.Seek(key)
	return it.Valid() && bytes.Equal(it.Item().Key(), key) && it.Item().Version() > b.maxVersion
}

// Damage returns the table blocks whose checksum did not match when the
// store was opened (nil for none). Their keys read as a *CorruptError until
// written again; writes are refused with ErrDamaged once level 0 is full,
// since compaction is off. Restore the data dir from a backup.
func (db *DB) Damage() []DamagedBlock {
	if db.damage == nil {
		return nil
	}
	out := make([]DamagedBlock, len(db.damage.blocks))
	for i, b := range db.damage.blocks {
		out[i] = b.DamagedBlock
	}
	return out
}

func (db *DB) logDamage() {
	if db.damage == nil {
		return
	}
	for _, b := range db.damage.blocks {
		db.log.Error("store: a table block is damaged; its keys read as corrupt until written again, "+
			"compaction is off and writes stop when level 0 is full: restore the data dir from a backup",
			"table", b.Table, "block", b.Block, "first_key", fmt.Sprintf("%q", b.FirstKey),
			"next_key", fmt.Sprintf("%q", b.NextKey))
	}
}

// writable returns ErrDamaged when a damaged store's level 0 is full.
func (db *DB) writable() error {
	if db.damage == nil {
		return nil
	}
	if levels := db.bdb.Levels(); len(levels) > 0 && levels[0].NumTables >= maxL0Damaged {
		return fmt.Errorf("%w: %d damaged table blocks (first in %s), level 0 is full and compaction is off; restore the data dir from a backup",
			ErrDamaged, len(db.damage.blocks), db.damage.blocks[0].Table)
	}
	return nil
}

// recoverRead turns a panic inside badger into a *CorruptError for key.
func (s *BotStore) recoverRead(key string, err *error) {
	if r := recover(); r != nil {
		*err = s.corrupt(key, fmt.Errorf("badger panicked reading it: %.300v", r))
	}
}

// guardWrite returns ErrDamaged when the store cannot take writes.
func (s *BotStore) guardWrite() error {
	if s.db.damage == nil {
		return nil
	}
	return s.db.writable()
}

// recoverBadger, deferred by the writer around badger calls that stage a
// call (reading stored versions, adding entries), turns a panic inside
// badger (say a damaged block read through mmap) into err.
func (w *writer) recoverBadger(err *error) {
	r := recover()
	if r == nil {
		return
	}
	*err = fmt.Errorf("persistence: cannot commit batch: panic: %.300v", r)
	w.log.Error("store write failed", "err", *err)
}

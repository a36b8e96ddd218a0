package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// openBadger is badger.Open with a panic (badger asserts on some damaged
// files) turned into an error.
func openBadger(bo badger.Options) (bdb *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			bdb, err = nil, fmt.Errorf("badger panicked: %v", r)
		}
	}()
	return badger.Open(bo)
}

// checkReadOnly opens the store read-only (nothing in the dir changes) and
// checks its records as checkRecords does.
func checkReadOnly(opts Options) error {
	bdb, err := openBadger(opts.badgerOptions().WithReadOnly(true))
	if err != nil {
		return &DataDirError{Dir: opts.Dir, Problem: fmt.Sprintf("badger cannot open it (%v)", err), Err: err}
	}
	defer bdb.Close()
	return checkRecords(bdb, opts, true, false)
}

// checkRecords checks the schema record and opts.RequiredMeta: a store
// that has records must have a schema record of a supported version and
// every required Meta record. An empty store gets its schema record unless
// readOnly. replayed tells the error that badger has replayed the
// logs of a process that did not close the store.
func checkRecords(bdb *badger.DB, opts Options, readOnly, replayed bool) error {
	refuse := func(problem string) error {
		return &DataDirError{Dir: opts.Dir, Problem: problem, Replayed: replayed}
	}
	version, found, err := readSchema(bdb)
	if err != nil {
		return refuse(err.Error())
	}
	records, err := hasRecords(bdb)
	if err != nil {
		return refuse(fmt.Sprintf("its records cannot be listed (%v)", err))
	}
	switch {
	case found && version > SchemaVersion:
		return fmt.Errorf("%w: data dir %q has schema version %d, this build supports up to %d; use a newer botserver",
			ErrSchemaVersion, opts.Dir, version, SchemaVersion)
	case !found && records:
		return refuse("it has records but no schema record")
	}
	for _, key := range opts.RequiredMeta {
		if !records {
			break
		}
		if err := bdb.View(func(txn *badger.Txn) error {
			_, err := txn.Get([]byte(metaSpace + key))
			return err
		}); err != nil {
			return refuse(fmt.Sprintf("it has records but no meta record %q (%v)", key, err))
		}
	}
	if found || readOnly {
		return nil
	}
	return bdb.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(schemaKey), binary.BigEndian.AppendUint64(nil, SchemaVersion))
	})
}

// readSchema returns the stored schema version.
func readSchema(bdb *badger.DB) (version uint64, found bool, err error) {
	err = bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(schemaKey))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("its schema record has %d bytes, want 8", len(v))
			}
			version = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	return version, err == nil, err
}

// hasRecords reports whether the store has a key other than the schema
// record.
func hasRecords(bdb *badger.DB) (bool, error) {
	found := false
	err := bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid() && !found; it.Next() {
			found = string(it.Item().Key()) != schemaKey
		}
		return nil
	})
	return found, err
}

package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// SchemaVersion is the key layout and value format this build writes. Open
// accepts data dirs of this or an older version and refuses newer ones.
const SchemaVersion = 1

// DB is botserver's state store: one badger database and its writer
// goroutine. It is safe for concurrent use.
type DB struct {
	bdb *badger.DB
	log *slog.Logger
	w   *writer

	closed   atomic.Bool
	readers  atomic.Int64  // reads in flight; Close waits for them
	drained  chan struct{} // signalled when readers drops to 0 after close
	closeMu  sync.Mutex
	closeErr error
	isClosed bool
}

// Open opens (creating if needed) the database in opts.Dir, or an in-memory
// one, checks its schema version and starts the writer. It fails when the
// dir is locked by another process, was written by an incompatible badger,
// or has a newer schema (ErrSchemaVersion).
func Open(opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	bdb, err := badger.Open(opts.badgerOptions())
	if err != nil {
		return nil, fmt.Errorf("persistence: cannot open badger in %q: %w", opts.Dir, err)
	}
	if err := checkSchema(bdb, opts.Dir); err != nil {
		bdb.Close()
		return nil, err
	}
	db := &DB{bdb: bdb, log: opts.Logger, drained: make(chan struct{}, 1)}
	db.w = newWriter(bdb, opts)
	go db.w.run()
	return db, nil
}

// checkSchema writes SchemaVersion into a new data dir (or one written by an
// older build before it recorded a version) and refuses a newer version.
func checkSchema(bdb *badger.DB, dir string) error {
	var stored uint64
	err := bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(schemaKey))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("schema record has %d bytes, want 8", len(v))
			}
			stored = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	switch {
	case err != nil && !errors.Is(err, badger.ErrKeyNotFound):
		return fmt.Errorf("persistence: cannot read schema version in %q: %w", dir, err)
	case stored > SchemaVersion:
		return fmt.Errorf("%w: data dir %q has schema version %d, this build supports up to %d; use a newer botserver",
			ErrSchemaVersion, dir, stored, SchemaVersion)
	case stored == SchemaVersion:
		return nil
	}
	// Schema 1 is the first; older versions (0: no record yet) need no migration.
	return bdb.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(schemaKey), binary.BigEndian.AppendUint64(nil, SchemaVersion))
	})
}

// Bot returns the handle of bot id's keys. It returns ErrInvalidBotID when
// id does not match [a-z0-9][a-z0-9_-]{0,62}.
func (db *DB) Bot(id string) (*BotStore, error) {
	if !validBotID(id) {
		return nil, fmt.Errorf("%w: %q (want [a-z0-9][a-z0-9_-]{0,62})", ErrInvalidBotID, id)
	}
	return &BotStore{db: db, bot: id, prefix: botSpace + id + "\x00"}, nil
}

// Meta returns the handle of the server-wide area, for records that belong
// to no bot. Errors it reports name no bot.
func (db *DB) Meta() *BotStore {
	return &BotStore{db: db, prefix: metaSpace}
}

// Close commits and syncs every write queued so far (their done callbacks
// run), stops the writer, waits for reads in flight and closes badger. Later
// calls return the first call's result. After Close, reads return ErrClosed
// and writes pass ErrClosed to their done callback.
func (db *DB) Close() error {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.isClosed {
		return db.closeErr
	}
	db.isClosed = true
	db.w.stop()
	db.closed.Store(true)
	for db.readers.Load() != 0 {
		<-db.drained
	}
	if err := db.bdb.Close(); err != nil {
		db.closeErr = fmt.Errorf("persistence: cannot close badger: %w", err)
	}
	return db.closeErr
}

// acquire registers a read; it returns ErrClosed once Close has begun
// waiting for reads. Reads may nest (a Scan callback may call Get).
func (db *DB) acquire() error {
	db.readers.Add(1)
	if db.closed.Load() {
		db.release()
		return ErrClosed
	}
	return nil
}

func (db *DB) release() {
	if db.readers.Add(-1) == 0 && db.closed.Load() {
		select {
		case db.drained <- struct{}{}:
		default:
		}
	}
}

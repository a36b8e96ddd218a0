package persistence

import (
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
	bdb       *badger.DB
	log       *slog.Logger
	w         *writer
	damage    *damage // nil unless Open found damaged table blocks
	space     *space  // nil for an in-memory store
	onCorrupt func(*CorruptError)

	closed   atomic.Bool
	readers  atomic.Int64  // reads in flight; Close waits for them
	drained  chan struct{} // signalled when readers drops to 0 after close
	closeMu  sync.Mutex
	closeErr error
	isClosed bool
}

// Open opens (creating if needed) the database in opts.Dir, or an in-memory
// one, checks that it is a complete botserver store of a supported schema
// version and starts the writer. It fails when the dir is locked by another
// process (ErrLocked), has files but is not a complete botserver store (a
// *DataDirError: Open then changed nothing in it), was written by an
// incompatible badger, or has a newer schema (ErrSchemaVersion).
func Open(opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	state, damaged := dirNew, []damagedBlock(nil)
	if !opts.InMemory {
		if state, damaged, err = checkDataDir(opts.Dir); err != nil {
			return nil, err
		}
	}
	if state == dirClean {
		// Check the records before badger opens the dir for writing (which
		// adds a value log file), so that a refused dir stays as it was.
		if err := checkReadOnly(opts); err != nil {
			return nil, err
		}
	}
	bo := opts.badgerOptions()
	if len(damaged) > 0 {
		bo = bo.WithNumCompactors(0) // see damage.go
	}
	bdb, err := openBadger(bo)
	if err != nil {
		return nil, fmt.Errorf("persistence: cannot open badger in %q: %w", opts.Dir, err)
	}
	if err := checkRecords(bdb, opts, false, state == dirCrashed); err != nil {
		bdb.Close()
		return nil, err
	}
	db := &DB{bdb: bdb, log: opts.Logger, onCorrupt: opts.OnCorrupt, drained: make(chan struct{}, 1)}
	db.damage = newDamage(damaged, bdb.Tables())
	db.logDamage()
	db.space = newSpace(opts)
	db.w = newWriter(bdb, opts, db.space)
	go db.w.run()
	return db, nil
}

// Bot returns the handle of bot id's keys. It returns ErrInvalidBotID when
// id does not match [a-z0-9][a-z0-9_-]{0,62}.
func (db *DB) Bot(id string) (*BotStore, error) {
	if err := CheckBotID(id); err != nil {
		return nil, err
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
	db.space.close()
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

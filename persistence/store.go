package persistence

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"
)

// Store is one bot's view of the state store. Keys are relative to the bot;
// a Store can neither read nor write another bot's keys. *BotStore is the
// badger implementation.
type Store interface {
	// Get returns a copy of key's value. It returns ErrNotFound when the key
	// is missing and a *CorruptError when the stored value is malformed.
	Get(key string) ([]byte, error)
	// GetVersioned is Get that also returns the version of the op that wrote
	// the value (0 for an unversioned write).
	GetVersioned(key string) (value []byte, version uint64, err error)
	// GetProto unmarshals key's value into m. It returns ErrNotFound when
	// the key is missing and a *CorruptError naming the key when the value
	// cannot be decoded; m is then in an unspecified state.
	GetProto(key string, m proto.Message) error
	// GetProtoVersioned is GetProto that also returns the value's version.
	GetProtoVersioned(key string, m proto.Message) (uint64, error)
	// Scan calls fn for every key starting with prefix ("" for all), in key
	// order, with the key relative to the bot. value is valid only during
	// the call. Scan stops at fn's first error and returns it, or nil if it
	// is ErrStopScan. A value whose stored format is malformed is skipped,
	// and Scan then returns a *CorruptError for the first such key after
	// visiting all others.
	Scan(prefix string, fn func(key string, value []byte) error) error
	// Count returns the number of keys starting with prefix.
	Count(prefix string) (int, error)
	// Write queues ops to be applied atomically and returns at once; see
	// (*BotStore).Write.
	Write(ops []Op, done func(error))
	// WriteSync applies ops atomically and returns when they are durable,
	// with the error Write would pass to done.
	WriteSync(ops ...Op) error
}

var _ Store = (*BotStore)(nil)

// BotStore is the badger implementation of Store for one bot (or the Meta
// area). It is safe for concurrent use and cheap to copy around.
type BotStore struct {
	db     *DB
	bot    string // "" for Meta
	prefix string // prepended to every relative key
}

// ID returns the bot id ("" for the Meta area).
func (s *BotStore) ID() string { return s.bot }

// Get implements Store. It returns ErrNotFound when the key is missing,
// ErrInvalidKey for an empty key and ErrClosed after Close.
func (s *BotStore) Get(key string) ([]byte, error) {
	v, _, err := s.GetVersioned(key)
	return v, err
}

// GetVersioned implements Store, with Get's errors.
func (s *BotStore) GetVersioned(key string) ([]byte, uint64, error) {
	var out []byte
	version, err := s.view(key, func(payload []byte) error {
		out = append(make([]byte, 0, len(payload)), payload...)
		return nil
	})
	return out, version, err
}

// GetProto implements Store: ErrNotFound when missing, *CorruptError when
// the value cannot be unmarshalled, ErrClosed after Close.
func (s *BotStore) GetProto(key string, m proto.Message) error {
	_, err := s.GetProtoVersioned(key, m)
	return err
}

// GetProtoVersioned implements Store, with GetProto's errors.
func (s *BotStore) GetProtoVersioned(key string, m proto.Message) (uint64, error) {
	return s.view(key, func(payload []byte) error {
		if err := proto.Unmarshal(payload, m); err != nil {
			return s.corrupt(key, err)
		}
		return nil
	})
}

// view calls fn with the decoded value of key inside a read transaction.
// A key in a damaged table block, and a panic inside badger, are a
// *CorruptError for key.
func (s *BotStore) view(key string, fn func(payload []byte) error) (version uint64, err error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := s.db.acquire(); err != nil {
		return 0, err
	}
	defer s.db.release()
	full := s.fullKey(key)
	var damaged *damagedBlock
	if s.db.damage != nil {
		damaged = s.db.damage.suspect(full)
	}
	defer s.recoverRead(key, &err)
	err = s.db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(full)
		if damaged != nil && !trusted(txn, full, item, err, damaged) {
			return s.corrupt(key, fmt.Errorf("%w: the key is in damaged block %d of table %s",
				ErrDamaged, damaged.Block, damaged.Table))
		}
		if err != nil {
			return err
		}
		return item.Value(func(raw []byte) error {
			payload, v, gone, err := decodeValue(item.UserMeta(), raw)
			switch {
			case err != nil:
				return s.corrupt(key, err)
			case gone:
				return ErrNotFound
			}
			version = v
			return fn(payload)
		})
	})
	return version, s.readErr(key, err)
}

// readErr maps badger's errors to the package's.
func (s *BotStore) readErr(key string, err error) error {
	var ce *CorruptError
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.As(err, &ce):
		return err
	case errors.Is(err, badger.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, badger.ErrDBClosed):
		return ErrClosed
	}
	return fmt.Errorf("persistence: cannot read %q%s: %w", key, s.botSuffix(), err)
}

func (s *BotStore) botSuffix() string {
	if s.bot == "" {
		return " (meta)"
	}
	return fmt.Sprintf(" of bot %q", s.bot)
}

// corrupt returns the *CorruptError of key, and logs and counts it.
func (s *BotStore) corrupt(key string, err error) *CorruptError {
	ce := &CorruptError{Bot: s.bot, Key: key, Err: err}
	s.db.log.Error("store: corrupt record", "bot", s.bot, "key", key, "err", err)
	if s.db.onCorrupt != nil {
		s.db.onCorrupt(ce)
	}
	return ce
}

func (s *BotStore) fullKey(key string) []byte {
	b := make([]byte, 0, len(s.prefix)+len(key))
	return append(append(b, s.prefix...), key...)
}

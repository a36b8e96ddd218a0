package persistence

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// BotStore is one bot's view of the state store (or the Meta area's): keys
// are relative to the bot, and a BotStore can neither read nor write
// another bot's keys. It is safe for concurrent use and cheap to copy around.
type BotStore struct {
	db     *DB
	bot    string // "" for Meta
	prefix string // prepended to every relative key
}

// ID returns the bot id ("" for the Meta area).
func (s *BotStore) ID() string { return s.bot }

// Get returns a copy of key's value. It returns ErrNotFound when the key is missing,
// ErrInvalidKey for an empty key and ErrClosed after Close.
func (s *BotStore) Get(key string) ([]byte, error) {
	v, _, err := s.GetVersioned(key)
	return v, err
}

// GetVersioned is Get that also returns the version of the op that wrote
// the value (0 for an unversioned write), with Get's errors.
func (s *BotStore) GetVersioned(key string) ([]byte, uint64, error) {
	var out []byte
	version, err := s.view(key, func(payload []byte) error {
		out = append(make([]byte, 0, len(payload)), payload...)
		return nil
	})
	return out, version, err
}

// view calls fn with the decoded value of key inside a read transaction.
// A key in a damaged table block, and a panic inside badger, are a
// *CorruptError for key.
func (s *BotStore) view(key string, fn func(payload []byte) error) (version uint64, err error) {
	if err := CheckKey(key); err != nil {
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

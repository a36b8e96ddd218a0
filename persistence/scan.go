package persistence

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Scan implements Store. It returns ErrClosed after Close. A prefix that
// meets a damaged table (DB.Damage) may have lost keys: Scan visits what it
// can read and then returns a *CorruptError for the prefix.
func (s *BotStore) Scan(prefix string, fn func(key string, value []byte) error) error {
	var corrupt error
	if d := s.db.damage; d != nil && d.scanHits(s.fullKey(prefix)) {
		corrupt = s.corrupt(prefix, fmt.Errorf("%w: a scan of this prefix meets a damaged table", ErrDamaged))
	}
	var user userCode
	err := s.iterate(prefix, false, &user, func(item *badger.Item, key string) error {
		return item.Value(func(raw []byte) error {
			payload, _, gone, err := decodeValue(item.UserMeta(), raw)
			switch {
			case err != nil:
				if corrupt == nil {
					corrupt = s.corrupt(key, err)
				}
				return nil
			case gone:
				return nil
			}
			return user.call(func() error { return fn(key, payload) })
		})
	})
	if errors.Is(err, ErrStopScan) {
		err = nil
	}
	if err == nil {
		err = corrupt
	}
	return err
}

// Count implements Store. Tombstones of versioned deletes are not counted.
// It returns ErrClosed after Close.
func (s *BotStore) Count(prefix string) (int, error) {
	n := 0
	err := s.iterate(prefix, true, nil, func(item *badger.Item, _ string) error {
		if item.UserMeta()&metaTombstone == 0 {
			n++
		}
		return nil
	})
	return n, err
}

// iterate calls fn for every item under prefix; key is relative to the bot
// and is built only when fn needs it (keysOnly is false).
// A panic inside badger is a *CorruptError for prefix; a panic in code
// that fn runs through user goes on.
func (s *BotStore) iterate(prefix string, keysOnly bool, user *userCode, fn func(item *badger.Item, key string) error) (err error) {
	if err := s.db.acquire(); err != nil {
		return err
	}
	defer s.db.release()
	defer func() {
		if r := recover(); r != nil {
			if user != nil && user.running {
				panic(r)
			}
			err = s.corrupt(prefix, fmt.Errorf("badger panicked scanning it: %.300v", r))
		}
	}()
	full := s.fullKey(prefix)
	return s.db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.IteratorOptions{Prefix: full}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var key string
			if !keysOnly {
				key = string(item.Key()[len(s.prefix):])
			}
			if err := fn(item, key); err != nil {
				return err
			}
		}
		return nil
	})
}

// userCode tells a panic in the caller's callback from one inside badger.
type userCode struct{ running bool }

func (u *userCode) call(fn func() error) error {
	u.running = true
	err := fn()
	u.running = false
	return err
}

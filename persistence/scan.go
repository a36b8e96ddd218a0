package persistence

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// Scan implements Store. It returns ErrClosed after Close.
func (s *BotStore) Scan(prefix string, fn func(key string, value []byte) error) error {
	var corrupt error
	err := s.iterate(prefix, false, func(item *badger.Item, key string) error {
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
			return fn(key, payload)
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
	err := s.iterate(prefix, true, func(item *badger.Item, _ string) error {
		if item.UserMeta()&metaTombstone == 0 {
			n++
		}
		return nil
	})
	return n, err
}

// iterate calls fn for every item under prefix; key is relative to the bot
// and is built only when fn needs it (keysOnly is false).
func (s *BotStore) iterate(prefix string, keysOnly bool, fn func(item *badger.Item, key string) error) error {
	if err := s.db.acquire(); err != nil {
		return err
	}
	defer s.db.release()
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

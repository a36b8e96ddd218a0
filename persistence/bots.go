package persistence

import (
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// BotLister is a Backend that can list the bots that have keys (both
// backends do): migrate-store copies each of them.
type BotLister interface {
	// Bots returns the ids of the bots with at least one stored record
	// (possibly only deleted or expired ones), in byte order.
	Bots() ([]string, error)
}

var _ BotLister = (*DB)(nil)

// Bots implements BotLister: it seeks from one bot's prefix to the next,
// reading one key per bot.
func (db *DB) Bots() ([]string, error) {
	if err := db.acquire(); err != nil {
		return nil, err
	}
	defer db.release()
	var ids []string
	err := db.bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(botSpace)})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			rest := strings.TrimPrefix(string(it.Item().Key()), botSpace)
			id, _, ok := strings.Cut(rest, "\x00")
			if !ok {
				it.Next()
				continue
			}
			ids = append(ids, id)
			it.Seek([]byte(botSpace + id + "\x01")) // past every key of id
		}
		return nil
	})
	return ids, err
}

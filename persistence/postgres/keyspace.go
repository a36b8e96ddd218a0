package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"botserver/persistence"
)

// keyspace is one bot's keys (bot "" is the Meta area).
type keyspace struct {
	st  *Store
	bot string
}

const live = "value IS NOT NULL AND (expires_at IS NULL OR expires_at > now())"

// ID implements persistence.Keyspace.
func (k *keyspace) ID() string { return k.bot }

// Get implements persistence.Keyspace.
func (k *keyspace) Get(key string) ([]byte, error) {
	v, _, err := k.GetVersioned(key)
	return v, err
}

// GetVersioned implements persistence.Keyspace.
func (k *keyspace) GetVersioned(key string) ([]byte, uint64, error) {
	if err := persistence.CheckKey(key); err != nil {
		return nil, 0, err
	}
	if err := k.st.g.enter(); err != nil {
		return nil, 0, err
	}
	defer k.st.g.leave()
	ctx, cancel := k.st.ctx()
	defer cancel()
	var value []byte
	var ver int64
	err := k.st.pool.QueryRow(ctx, "SELECT value, ver FROM kv WHERE bot = $1 AND key = $2 AND "+live,
		k.bot, []byte(key)).Scan(&value, &ver)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, 0, persistence.ErrNotFound
	case err != nil:
		return nil, 0, k.st.readErr(fmt.Sprintf("read %q%s", key, k.suffix()), err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, uint64(ver), nil
}

func (k *keyspace) suffix() string {
	if k.bot == "" {
		return " (meta)"
	}
	return fmt.Sprintf(" of bot %q", k.bot)
}

// Scan implements persistence.Keyspace. The rows stream from one pooled
// connection while fn runs; fn may read the store (another connection).
func (k *keyspace) Scan(prefix string, fn func(key string, value []byte) error) error {
	if err := k.st.g.enter(); err != nil {
		return err
	}
	defer k.st.g.leave()
	ctx, cancel := k.st.ctx()
	defer cancel()
	where, args := k.prefixRange(prefix)
	rows, err := k.st.pool.Query(ctx, "SELECT key, value FROM kv WHERE "+where+" AND "+live+" ORDER BY key", args...)
	if err != nil {
		return k.st.readErr(fmt.Sprintf("scan %q%s", prefix, k.suffix()), err)
	}
	defer rows.Close()
	var key, value []byte
	for rows.Next() {
		if err := rows.Scan(&key, &value); err != nil {
			return k.st.readErr(fmt.Sprintf("scan %q%s", prefix, k.suffix()), err)
		}
		if err := fn(string(key), value); err != nil {
			if errors.Is(err, persistence.ErrStopScan) {
				return nil
			}
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return k.st.readErr(fmt.Sprintf("scan %q%s", prefix, k.suffix()), err)
	}
	return nil
}

// Count implements persistence.Keyspace.
func (k *keyspace) Count(prefix string) (int, error) {
	if err := k.st.g.enter(); err != nil {
		return 0, err
	}
	defer k.st.g.leave()
	ctx, cancel := k.st.ctx()
	defer cancel()
	where, args := k.prefixRange(prefix)
	var n int
	if err := k.st.pool.QueryRow(ctx, "SELECT count(*) FROM kv WHERE "+where+" AND "+live, args...).Scan(&n); err != nil {
		return 0, k.st.readErr(fmt.Sprintf("count %q%s", prefix, k.suffix()), err)
	}
	return n, nil
}

// prefixRange returns the condition and arguments selecting the keys of
// k that start with prefix: a primary-key range.
func (k *keyspace) prefixRange(prefix string) (string, []any) {
	if end := prefixEnd([]byte(prefix)); end != nil {
		return "bot = $1 AND key >= $2 AND key < $3", []any{k.bot, []byte(prefix), end}
	}
	return "bot = $1 AND key >= $2", []any{k.bot, []byte(prefix)}
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil when there is none (prefix is empty or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Load implements persistence.Keyspace: the claim goes through the writer,
// after every call queued before it.
func (k *keyspace) Load(key string) (persistence.Loaded, error) {
	if err := persistence.CheckKey(key); err != nil {
		return persistence.Loaded{}, err
	}
	type result struct {
		l   persistence.Loaded
		err error
	}
	ch := make(chan result, 1)
	k.st.w.enqueue(&wcall{bot: k.bot, claim: []byte(key), loaded: func(l persistence.Loaded, err error) {
		ch <- result{l, err}
	}})
	r := <-ch
	return r.l, r.err
}

// Commit implements persistence.Keyspace. Both callbacks run after COMMIT:
// the fence is checked by the database.
func (k *keyspace) Commit(c persistence.Call, cb persistence.Callbacks) {
	done := func(err error) {
		if cb.Sequenced != nil {
			cb.Sequenced(err)
		}
		if cb.Durable != nil {
			cb.Durable(err)
		}
	}
	if err := persistence.CheckCall(c); err != nil {
		done(err)
		return
	}
	k.st.w.enqueue(&wcall{bot: k.bot, call: c, done: done})
}

// CommitSync implements persistence.Keyspace.
func (k *keyspace) CommitSync(c persistence.Call) error {
	ch := make(chan error, 1)
	k.Commit(c, persistence.Callbacks{Durable: func(err error) { ch <- err }})
	return <-ch
}

// Write implements persistence.Keyspace.
func (k *keyspace) Write(ops []persistence.Op, done func(error)) {
	k.Commit(persistence.Call{Ops: ops}, persistence.Callbacks{Durable: done})
}

// WriteSync implements persistence.Keyspace.
func (k *keyspace) WriteSync(ops ...persistence.Op) error {
	return k.CommitSync(persistence.Call{Ops: ops})
}

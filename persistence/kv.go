package persistence

import (
	"errors"
	"time"
)

// KV is a Keyspace seen as a plain durable map with expiry, the way a
// platform keeps its own records (the Slack platform's installations and
// event dedup marks: it is a slack.Store). Every write waits until it is
// durable.
type KV struct{ Keys Keyspace }

// Get returns key's value; found is false (err nil) when it is missing or
// has expired.
func (kv KV) Get(key string) (value []byte, found bool, err error) {
	v, err := kv.Keys.Get(key)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// Put sets key; ttl > 0 makes it expire.
func (kv KV) Put(key string, value []byte, ttl time.Duration) error {
	return kv.Keys.WriteSync(Op{Key: key, Value: value, TTL: ttl})
}

// Delete removes key; a missing key is not an error.
func (kv KV) Delete(key string) error {
	return kv.Keys.WriteSync(Op{Key: key, Delete: true})
}

// Scan calls fn for every key starting with prefix, in key order.
func (kv KV) Scan(prefix string, fn func(key string, value []byte) error) error {
	return kv.Keys.Scan(prefix, fn)
}

package persistence

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Key layout. Every key of bot B is stored under "b\x00" + B + "\x00"; the
// server-wide Meta area is under "m\x00"; the schema record is outside both.
// Bot ids cannot contain "\x00", so no relative key can leave its bot's
// prefix.
const (
	botSpace  = "b\x00"
	metaSpace = "m\x00"
	schemaKey = "x\x00schema"
)

// Prefixes of the record kinds the runtime stores, relative to a bot. Scan
// with one of them to list all records of that kind.
const (
	PrefixState = "s/"     // conversation, master and group state
	PrefixUser  = "u/"     // user records shared by a user's conversations
	PrefixGroup = "g/"     // the group registry
	PrefixTimer = "t/"     // the durable timer index, by owner and id
	PrefixSlack = "slack/" // Slack installations: team → bot token
	PrefixDedup = "dedup/" // platform event ids already handled
)

// Limits on keys and values.
const (
	// MaxKeySize is the longest relative key accepted.
	MaxKeySize = 1024
	// MaxValueSize is the longest value accepted. It keeps every value in
	// badger's LSM tree, so the value log never needs garbage collection.
	MaxValueSize = 1<<20 - 64
)

// StateKey returns the key of the state of the instance at addr (a
// conversation address, "master", or a group id).
func StateKey(addr string) string { return PrefixState + addr }

// UserKey returns the key of a user's record.
func UserKey(userID string) string { return PrefixUser + userID }

// GroupKey returns the key of a group's registry entry.
func GroupKey(groupID string) string { return PrefixGroup + groupID }

// SlackKey returns the key of a Slack workspace's installation.
func SlackKey(teamID string) string { return PrefixSlack + teamID }

// DedupKey returns the key that marks a platform event id as handled.
func DedupKey(eventID string) string { return PrefixDedup + eventID }

// TimerKey returns the index key of timer id of owner (an instance
// address): PrefixTimer + owner + NUL + id (8 bytes, big-endian), so that
// re-arming a timer overwrites its one record; ParseTimerKey reverses it.
// The runtime keeps the deadline in the value.
func TimerKey(owner string, id uint64) string {
	b := make([]byte, 0, len(PrefixTimer)+len(owner)+9)
	b = append(b, PrefixTimer...)
	b = append(b, owner...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, id)
	return string(b)
}

// ParseTimerKey splits a key made by TimerKey. It returns ErrInvalidKey when
// key is not a timer key. The id is the last 8 bytes (it may contain NULs).
func ParseTimerKey(key string) (owner string, id uint64, err error) {
	rest, ok := strings.CutPrefix(key, PrefixTimer)
	if !ok || len(rest) < 10 || rest[len(rest)-9] != 0 {
		return "", 0, fmt.Errorf("%w: %q is not a timer key", ErrInvalidKey, key)
	}
	return rest[:len(rest)-9], binary.BigEndian.Uint64([]byte(rest[len(rest)-8:])), nil
}

// validBotID reports whether id matches [a-z0-9][a-z0-9_-]{0,62}.
func validBotID(id string) bool {
	if len(id) == 0 || len(id) > 63 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkKey returns ErrInvalidKey for an empty or too long relative key.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > MaxKeySize {
		return fmt.Errorf("%w: key of %d bytes exceeds %d", ErrInvalidKey, len(key), MaxKeySize)
	}
	return nil
}

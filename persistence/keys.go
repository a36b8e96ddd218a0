package persistence

import (
	"fmt"
	"net/url"
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
	PrefixState = "s/" // conversation, master and group state
	PrefixUser  = "u/" // user records shared by a user's conversations
	PrefixGroup = "g/" // the group registry
	// PrefixMember holds groups' members, a key each (see MemberKey).
	PrefixMember = "m/"
	PrefixTimer  = "t/"     // wake-up times of instances with timers, by owner
	PrefixSlack  = "slack/" // Slack installations: team → bot token
	PrefixDedup  = "dedup/" // platform event ids already handled
	// PrefixQuarantine holds the instances stopped after repeated failures.
	PrefixQuarantine = "q/"
)

// PrefixHistory holds conversations' recent client frames, by address and
// slot (see HistoryKey).
const PrefixHistory = "h/"

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

// MemberPrefix returns the prefix of the member keys of group: scan it to
// list the group's members. The group id is path-escaped, so no group's
// prefix is a prefix of another's ("~a/b" is "~a%2Fb").
func MemberPrefix(group string) string { return PrefixMember + url.PathEscape(group) + "/" }

// MemberKey returns the key that records member (a conversation address)
// in group; the runtime stores its join sequence number there.
func MemberKey(group, member string) string { return MemberPrefix(group) + member }

// UserKey returns the key of a user's record.
func UserKey(userID string) string { return PrefixUser + userID }

// QuarantineKey returns the key of the quarantine record of the instance
// at addr.
func QuarantineKey(addr string) string { return PrefixQuarantine + addr }

// WakeKey returns the key of owner's wake-up record (owner is an instance
// address): the runtime keeps there a time at or before the instance's
// earliest timer, so that an instance that is not resident after a restart
// is woken in time. ParseWakeKey reverses it.
func WakeKey(owner string) string { return PrefixTimer + owner }

// HistoryPrefix returns the prefix of the history slots of the
// conversation at addr: HistoryPrefix(addr) + "007" is slot 7.
func HistoryPrefix(addr string) string { return PrefixHistory + addr + "/" }

// HistoryKey returns the key of slot (0-999) of addr's history.
func HistoryKey(addr string, slot int) string {
	return PrefixHistory + addr + "/" + string([]byte{'0' + byte(slot/100%10), '0' + byte(slot/10%10), '0' + byte(slot%10)})
}

// ParseWakeKey returns the owner of a key made by WakeKey, or ErrInvalidKey.
func ParseWakeKey(key string) (owner string, err error) {
	owner, ok := strings.CutPrefix(key, PrefixTimer)
	if !ok || owner == "" {
		return "", fmt.Errorf("%w: %q is not a wake-up key", ErrInvalidKey, key)
	}
	return owner, nil
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

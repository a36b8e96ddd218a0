package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"botserver/persistence"
)

// Harness tells Run how to make stores of one backend.
type Harness struct {
	// Open opens the store called name: a new, empty store the first time
	// a test uses the name, the same data after Close. Required. The
	// harness closes what it opened at the end of the test (a second Close
	// must be harmless).
	Open func(tb testing.TB, name string) persistence.Backend
	// Corrupt, if set, damages the stored value of bot's key in the closed
	// store name so that it cannot be read. A backend without a stored
	// value format of its own leaves it nil; those subtests then skip.
	Corrupt func(tb testing.TB, name, bot, key string)
	// SetLowSpace, if set, makes the open store name see its free space
	// as low (true) or ample again (false), and notice it before returning.
	// A backend that does not watch free space leaves it nil.
	SetLowSpace func(tb testing.TB, name string, low bool)
}

// Run runs the conformance suite against h's backend.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"ReadWrite", testReadWrite},
		{"Versions", testVersions},
		{"Isolation", testIsolation},
		{"InvalidInput", testInvalidInput},
		{"Scan", testScan},
		{"GroupCommit", testGroupCommit},
		{"Ordering", testOrdering},
		{"Fencing", testFencing},
		{"FencingSurvivesDeleteAndReopen", testFencingDurable},
		{"LoadOrdersAfterQueuedWrites", testLoadOrder},
		{"CAS", testCAS},
		{"Corrupt", testCorrupt},
		{"CloseWithWritesQueued", testClose},
		{"NoSpace", testNoSpace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, h) })
	}
}

// keys returns bot's keyspace of b.
func keys(tb testing.TB, b persistence.Backend, bot string) persistence.Keyspace {
	tb.Helper()
	k, err := b.Keys(bot)
	if err != nil {
		tb.Fatalf("Keys(%q): %v", bot, err)
	}
	return k
}

func put(tb testing.TB, k persistence.Keyspace, ops ...persistence.Op) {
	tb.Helper()
	if err := k.WriteSync(ops...); err != nil {
		tb.Fatalf("WriteSync(%s): %v", describe(ops), err)
	}
}

func commit(tb testing.TB, k persistence.Keyspace, c persistence.Call) {
	tb.Helper()
	if err := k.CommitSync(c); err != nil {
		tb.Fatalf("CommitSync(fence %+v, %s): %v", c.Fence, describe(c.Ops), err)
	}
}

func describe(ops []persistence.Op) string {
	var b strings.Builder
	for i, op := range ops {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s", op.Key)
	}
	return b.String()
}

// want fails unless key reads as value (nil: missing) with version.
func want(tb testing.TB, k persistence.Keyspace, key string, value []byte, version uint64) {
	tb.Helper()
	got, v, err := k.GetVersioned(key)
	switch {
	case value == nil && !errors.Is(err, persistence.ErrNotFound):
		tb.Errorf("bot %q GetVersioned(%q) = %q, %d, %v; want ErrNotFound", k.ID(), key, got, v, err)
	case value != nil && err != nil:
		tb.Errorf("bot %q GetVersioned(%q): %v; want %q", k.ID(), key, err, value)
	case value != nil && (string(got) != string(value) || v != version):
		tb.Errorf("bot %q GetVersioned(%q) = %q, version %d; want %q, version %d", k.ID(), key, got, v, value, version)
	}
}

// wantErr fails unless err is target.
func wantErr(tb testing.TB, what string, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Errorf("%s = %v; want %v", what, err, target)
	}
}

// scan returns "key=value" for every key under prefix.
func scan(tb testing.TB, k persistence.Keyspace, prefix string) []string {
	tb.Helper()
	var got []string
	err := k.Scan(prefix, func(key string, value []byte) error {
		got = append(got, key+"="+string(value))
		return nil
	})
	if err != nil {
		tb.Fatalf("Scan(%q): %v", prefix, err)
	}
	return got
}

func wantList(tb testing.TB, what string, got []string, want ...string) {
	tb.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		tb.Errorf("%s = %q; want %q", what, got, want)
	}
}

func set(key, value string) persistence.Op { return persistence.Op{Key: key, Value: []byte(value)} }

func del(key string) persistence.Op { return persistence.Op{Key: key, Delete: true} }

func closeStore(tb testing.TB, b persistence.Backend) {
	tb.Helper()
	if err := b.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

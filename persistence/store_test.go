package persistence

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestRoundTrip(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{}), "chatter")
	mustWrite(t, s,
		Op{Key: StateKey("web:u1"), Value: []byte("one")},
		Op{Key: StateKey("web:u2"), Value: []byte("two")},
		Op{Key: UserKey("u1"), Value: []byte("user")},
		Op{Key: "s", Value: []byte{}},
	)
	mustWrite(t, s, Op{Key: StateKey("web:u2"), Delete: true}, Op{Key: StateKey("web:u3"), Value: []byte("three")})

	tests := []struct {
		name string
		key  string
		want []byte
	}{
		{"set", StateKey("web:u1"), []byte("one")},
		{"deleted", StateKey("web:u2"), nil},
		{"set in second call", StateKey("web:u3"), []byte("three")},
		{"other kind", UserKey("u1"), []byte("user")},
		{"empty value", "s", []byte{}},
		{"never written", StateKey("web:u9"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantValue(t, s, tt.key, tt.want) })
	}

	got := scanAll(t, s, PrefixState)
	want := []string{"s/web:u1=one", "s/web:u3=three"}
	if !slices.Equal(got, want) {
		t.Errorf("Scan(%q) = %q; want %q", PrefixState, got, want)
	}
	for prefix, want := range map[string]int{"": 4, PrefixState: 2, PrefixUser: 1, PrefixGroup: 0} {
		if got, err := s.Count(prefix); err != nil || got != want {
			t.Errorf("Count(%q) = %d, %v; want %d", prefix, got, err, want)
		}
	}
}

func TestScanStop(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{}), "chatter")
	for _, k := range []string{"g/a", "g/b", "g/c"} {
		mustWrite(t, s, Op{Key: k, Value: []byte(k)})
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		stopAt  string
		ret     error
		want    error
		wantLen int
	}{
		{"ErrStopScan ends without error", "g/b", ErrStopScan, nil, 2},
		{"other error is returned", "g/a", boom, boom, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := s.Scan(PrefixGroup, func(k string, _ []byte) error {
				n++
				if k == tt.stopAt {
					return tt.ret
				}
				return nil
			})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) || n != tt.wantLen {
				t.Errorf("Scan = %v after %d keys; want %v after %d", err, n, tt.want, tt.wantLen)
			}
		})
	}
}

func TestBotIsolation(t *testing.T) {
	db := openDB(t, "", Options{})
	a, b := mustBot(t, db, "a"), mustBot(t, db, "b")
	mustWrite(t, b, Op{Key: "x", Value: []byte("b's")}, Op{Key: "s/1", Value: []byte("b's state")})
	crafted := []string{"../x", "\x00b\x00x", "/../b/x", "\x00\x00b\x00s/1", "b\x00x"}
	for _, k := range crafted {
		mustWrite(t, a, Op{Key: k, Value: []byte("a's " + k)})
	}
	mustWrite(t, mustBot(t, db, "a-b"), Op{Key: "x", Value: []byte("a-b's")})
	mustWrite(t, db.Meta(), Op{Key: "x", Value: []byte("meta")})

	wantValue(t, b, "x", []byte("b's"))
	wantValue(t, b, "s/1", []byte("b's state"))
	wantValue(t, a, "x", nil)
	for _, k := range crafted {
		wantValue(t, a, k, []byte("a's "+k))
	}
	if got := scanAll(t, b, ""); len(got) != 2 {
		t.Errorf("bot b sees %q; want only its own 2 keys", got)
	}
	if n, err := a.Count(""); err != nil || n != len(crafted) {
		t.Errorf("bot a Count = %d, %v; want %d", n, err, len(crafted))
	}
	if got := scanAll(t, db.Meta(), ""); !slices.Equal(got, []string{"x=meta"}) {
		t.Errorf("Meta sees %q; want [x=meta]", got)
	}
}

func TestBotIDs(t *testing.T) {
	db := openDB(t, "", Options{})
	tests := []struct {
		id string
		ok bool
	}{
		{"chatter", true}, {"a", true}, {"0", true}, {"my_bot-2", true},
		{strings.Repeat("a", 63), true}, {strings.Repeat("a", 64), false},
		{"", false}, {"Chatter", false}, {"-bot", false}, {"_bot", false},
		{"a\x00b", false}, {"a/b", false}, {"a.b", false}, {"a b", false}, {"ä", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := db.Bot(tt.id)
			if got := err == nil; got != tt.ok || (!tt.ok && !errors.Is(err, ErrInvalidBotID)) {
				t.Errorf("Bot(%q) error = %v; want ok=%v", tt.id, err, tt.ok)
			}
		})
	}
}

func TestInvalidOps(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{}), "chatter")
	big := make([]byte, MaxValueSize+1)
	many := make([]Op, 0, 40)
	for i := range cap(many) {
		many = append(many, Op{Key: "k" + strings.Repeat("x", i), Value: make([]byte, MaxValueSize/8)})
	}
	tests := []struct {
		name string
		ops  []Op
		want error
	}{
		{"empty key", []Op{{Key: "", Value: []byte("v")}}, ErrInvalidKey},
		{"long key", []Op{{Key: strings.Repeat("k", MaxKeySize+1)}}, ErrInvalidKey},
		{"big value", []Op{{Key: "k", Value: big}}, ErrTooLarge},
		{"big call", many, ErrTooLarge},
		{"one bad op fails the call", []Op{{Key: "ok", Value: []byte("v")}, {Key: ""}}, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.WriteSync(tt.ops...); !errors.Is(err, tt.want) {
				t.Errorf("WriteSync = %v; want %v", err, tt.want)
			}
		})
	}
	wantValue(t, s, "ok", nil)
	if _, err := s.Get(""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf(`Get("") = %v; want ErrInvalidKey`, err)
	}
}

func TestWakeKeys(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{}), "chatter")
	owners := []string{"web:u1", "master", "web:u2", "~room", "web:u1@~room"}
	for _, o := range owners {
		mustWrite(t, s, Op{Key: WakeKey(o), Value: []byte{}})
	}
	mustWrite(t, s, Op{Key: WakeKey("web:u1"), Value: []byte{1}}) // a rewrite overwrites
	var got []string
	err := s.Scan(PrefixTimer, func(k string, _ []byte) error {
		owner, err := ParseWakeKey(k)
		got = append(got, owner)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(owners))
	if !slices.Equal(got, want) {
		t.Errorf("wake-ups scanned as %v; want %v", got, want)
	}
	for _, k := range []string{StateKey("x"), PrefixTimer} {
		if _, err := ParseWakeKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseWakeKey(%q) = %v; want ErrInvalidKey", k, err)
		}
	}
}

func TestMalformedStoredFormat(t *testing.T) {
	db := openDB(t, "", Options{})
	s := mustBot(t, db, "chatter")
	mustWrite(t, s, Op{Key: "g/a", Value: []byte("a")}, Op{Key: "g/c", Value: []byte("c")})
	bad := map[string]*badger.Entry{
		"g/b": badger.NewEntry(s.fullKey("g/b"), []byte("x")).WithMeta(0x80),
		"g/d": badger.NewEntry(s.fullKey("g/d"), []byte{1, 2}).WithMeta(metaVersioned),
	}
	err := db.bdb.Update(func(txn *badger.Txn) error {
		for _, e := range bad {
			if err := txn.SetEntry(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range bad {
		var ce *CorruptError
		if _, err := s.Get(key); !errors.As(err, &ce) || ce.Key != key {
			t.Errorf("Get(%q) = %v; want *CorruptError for it", key, err)
		}
	}
	var visited []string
	err = s.Scan(PrefixGroup, func(k string, _ []byte) error { visited = append(visited, k); return nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Key != "g/b" || !slices.Equal(visited, []string{"g/a", "g/c"}) {
		t.Errorf("Scan visited %q and returned %v; want g/a, g/c and a *CorruptError for g/b", visited, err)
	}
	mustWrite(t, s, Op{Key: "g/b", Value: []byte("fixed")}, Op{Key: "g/d", Value: []byte("fixed"), Version: 1})
	wantValue(t, s, "g/b", []byte("fixed"))
	wantValue(t, s, "g/d", []byte("fixed"))
}

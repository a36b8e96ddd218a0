package persistence

import "testing"

func TestHistoryKey(t *testing.T) {
	for slot, want := range map[int]string{0: "h/web:u1/000", 7: "h/web:u1/007", 42: "h/web:u1/042", 199: "h/web:u1/199"} {
		if got := HistoryKey("web:u1", slot); got != want {
			t.Errorf("HistoryKey(web:u1, %d) = %q, want %q", slot, got, want)
		}
	}
	if p := HistoryPrefix("web:u1@~g"); p != "h/web:u1@~g/" {
		t.Errorf("HistoryPrefix = %q", p)
	}
}

// TestMemberKey: a group's member keys are under its own prefix, which no
// other group's prefix contains ("~a/b" is escaped).
func TestMemberKey(t *testing.T) {
	if got, want := MemberKey("~big", "web:u1@~big"), "m/~big/web:u1@~big"; got != want {
		t.Errorf("MemberKey = %q, want %q", got, want)
	}
	if got, want := MemberPrefix("~a/b"), "m/~a%2Fb/"; got != want {
		t.Errorf("MemberPrefix(~a/b) = %q, want %q", got, want)
	}
	if k := MemberKey("~a/b", "x"); k[:len(MemberPrefix("~a"))] == MemberPrefix("~a") {
		t.Errorf("the key %q of group ~a/b is under the prefix of group ~a", k)
	}
}

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

package dsl

import (
	"testing"
	"time"
)

// TestSummarizeState: the summary of a stored state names the dialog
// whose ask waits and when a turn last wrote it; a state with no waiting
// ask has none, and bytes that are not a state are refused.
func TestSummarizeState(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  say \"hi\"\nend\ndialog trigger: \"name\" do\n  invoke who\nend\n"+
		"dialog who do\n  n = ask \"Your name?\"\n  say n\nend\ndialog trigger: \"x\" do\n  ask \"Sure?\"\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in, waiting string
		at          time.Duration
	}{
		{"hi", "", 0}, // main ran and ended
		{"name", "who", time.Second},
		{"Ann", "", 2 * time.Second},
		{"x", "dialog@11", 3 * time.Second},
	} {
		s.env.Now = start.Add(tt.at)
		if res := s.m.Turn(s.st, Message(tt.in), s.env); res.Err != nil {
			t.Fatal(res.Err)
		}
		raw, err := Marshal(s.st)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := SummarizeState(raw)
		if err != nil {
			t.Fatal(err)
		}
		if sum.WaitingIn != tt.waiting || !sum.Active.Equal(start.Add(tt.at)) {
			t.Errorf("after %q: got %+v, want waiting in %q, active at %v", tt.in, sum, tt.waiting, start.Add(tt.at))
		}
	}
	if _, err := SummarizeState([]byte{0x22, 0x05}); err == nil || err.Error() != "corrupt state: unexpected EOF" {
		t.Errorf("truncated state: %v", err)
	}
}

// FuzzSummarizeState: any bytes give a summary or an error, never a
// panic; a state's own bytes always give a summary.
func FuzzSummarizeState(f *testing.F) {
	prog, err := Compile("main.bot", "dialog main do\n  n = ask \"Name?\"\n  say n\nend\n", RoleSession)
	if err != nil {
		f.Fatal(err)
	}
	s := newSim(f, prog, false)
	s.m.Turn(s.st, Message("hi"), s.env)
	raw, err := Marshal(s.st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte{0x22, 0x02, 0x22, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		sum, err := SummarizeState(b)
		if err != nil && sum != (StateSummary{}) {
			t.Errorf("an error with a summary: %+v", sum)
		}
	})
}

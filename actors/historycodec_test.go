package actors

import (
	"botserver"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	ts := time.UnixMilli(1767268800123)
	entries := []botserver.Outgoing{
		{Kind: botserver.OutText, Text: "Pick one", Ask: true, QuickReplies: []string{"Red", "Blue"}, TS: ts},
		{Kind: botserver.OutText, Text: "Size?", Ask: true, QuickReplies: []string{"Large", "Small"}, QuickReplyValues: []string{"L", ""}, TS: ts},
		{Kind: botserver.OutText, Text: "hi", FromUser: true, TS: ts},
		{Kind: botserver.OutImage, URL: "https://example.com/a.png", TS: ts},
		{Kind: botserver.OutEvent, Name: "score", Payload: map[string]any{"n": 3, "f": 1.5, "l": []any{"a", nil, true}}, TS: ts},
		{Kind: botserver.OutEvent, Name: "clicked", FromUser: true, TS: time.UnixMilli(-5)},
	}
	raw := encodeRecord(42, 0, entries)
	if turn, ok := recordTurn(raw); !ok || turn != 42 {
		t.Errorf("turn %d %v", turn, ok)
	}
	back, err := decodeRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, entries) {
		t.Errorf("round trip:\n got %#v\nwant %#v", back, entries)
	}
}

func TestRecordBounds(t *testing.T) {
	long := botserver.Outgoing{Kind: botserver.OutText, Text: strings.Repeat("ab", MaxHistoryText),
		QuickReplies: []string{strings.Repeat("q", MaxHistoryText-1), "next"}}
	back, err := decodeRecord(encodeRecord(1, 0, []botserver.Outgoing{long}))
	if err != nil {
		t.Fatal(err)
	}
	if text := back[0].Text; len(text) != MaxHistoryText || !strings.HasSuffix(text, "ba…") {
		t.Errorf("text of %d bytes ending in %q", len(text), text[len(text)-6:])
	}
	if len(back[0].QuickReplies) != 1 {
		t.Errorf("%d quick replies kept, want the first (the second is over the bound)", len(back[0].QuickReplies))
	}
	valued := botserver.Outgoing{Kind: botserver.OutText, QuickReplies: []string{"a", "b"},
		QuickReplyValues: []string{strings.Repeat("v", MaxHistoryText-2), "w"}}
	back, err = decodeRecord(encodeRecord(1, 0, []botserver.Outgoing{valued}))
	if err != nil {
		t.Fatal(err)
	}
	if q := back[0]; !reflect.DeepEqual(q.QuickReplies, []string{"a"}) || !reflect.DeepEqual(q.QuickReplyValues, valued.QuickReplyValues[:1]) {
		t.Errorf("kept quick replies %q with %d values, want the first with its value (values count toward the bound)", q.QuickReplies, len(q.QuickReplyValues))
	}
	big := botserver.Outgoing{Kind: botserver.OutEvent, Name: "e", Payload: strings.Repeat("x", MaxHistoryText)}
	if back, _ := decodeRecord(encodeRecord(1, 0, []botserver.Outgoing{big})); back[0].Payload != nil || back[0].Name != "e" {
		t.Errorf("a payload over the bound is kept as %v (name %q)", back[0].Payload, back[0].Name)
	}
	var many []botserver.Outgoing
	for i := range 10 {
		many = append(many, botserver.Outgoing{Kind: botserver.OutText, Text: strings.Repeat(string(rune('a'+i)), MaxHistoryText)})
	}
	raw := encodeRecord(1, 0, many)
	back, _ = decodeRecord(raw)
	if len(raw) > MaxHistoryRecord || len(back) != 3 || back[2].Text[0] != 'j' {
		t.Errorf("a record of %d bytes keeps %d entries; want the last ones within %d bytes", len(raw), len(back), MaxHistoryRecord)
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	for _, raw := range [][]byte{{0x08}, {0x5a, 0x05, 'a'}, {0x5a, 0x04, 0x52, 0x02, 0xff, 0xff}, {0xff}} {
		if _, err := decodeRecord(raw); err == nil {
			t.Errorf("%x decoded without an error", raw)
		}
	}
}

// FuzzDecodeRecord: no input makes the decoder panic, and what it decodes
// encodes to a record that decodes the same.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(7, 0, []botserver.Outgoing{{Kind: botserver.OutText, Text: "hi", QuickReplies: []string{"a"}, TS: time.UnixMilli(1)}}))
	f.Add(encodeRecord(9, 0, []botserver.Outgoing{{Kind: botserver.OutEvent, Name: "e", Payload: map[string]any{"k": []any{1, "x"}}}}))
	f.Add([]byte{0x5a, 0x04, 0x52, 0x02, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		entries, err := decodeRecord(raw)
		if err != nil {
			return
		}
		again, err := decodeRecord(encodeRecord(1, 0, entries))
		if err != nil {
			t.Fatalf("re-encoded record: %v", err)
		}
		if len(again) > len(entries) {
			t.Fatalf("%d entries became %d", len(entries), len(again))
		}
		for i := range again {
			e := entries[len(entries)-len(again)+i]
			if len(e.Text) <= MaxHistoryText && again[i].Text != e.Text {
				t.Fatalf("text %q became %q", e.Text, again[i].Text)
			}
		}
	})
}

// TestRecordInput: a record names the input its turn handled, which
// decodeRecord skips; a record without one reads as 0.
func TestRecordInput(t *testing.T) {
	entries := []botserver.Outgoing{{Kind: botserver.OutText, Text: "n=3", TS: time.UnixMilli(1700000000123)}}
	raw := encodeRecord(7, 42, entries)
	if got := recordInput(raw); got != 42 {
		t.Errorf("recordInput = %d, want 42", got)
	}
	if got, ok := recordTurn(raw); !ok || got != 7 {
		t.Errorf("recordTurn = %d %v, want 7", got, ok)
	}
	back, err := decodeRecord(raw)
	if err != nil || len(back) != 1 || back[0].Text != "n=3" {
		t.Errorf("decodeRecord = %v, %v", back, err)
	}
	if got := recordInput(encodeRecord(7, 0, entries)); got != 0 {
		t.Errorf("recordInput of a record without one = %d", got)
	}
}

package actors

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	ts := time.UnixMilli(1767268800123)
	for _, out := range []Outgoing{
		{Kind: OutText, Text: "Pick one", Ask: true, QuickReplies: []string{"Red", "Blue"}, TS: ts},
		{Kind: OutText, Text: "hi", FromUser: true, TS: ts},
		{Kind: OutImage, URL: "https://example.com/a.png", TS: ts},
		{Kind: OutEvent, Name: "score", Payload: map[string]any{"n": 3, "f": 1.5, "l": []any{"a", nil, true}}, TS: ts},
		{Kind: OutEvent, Name: "clicked", FromUser: true, TS: time.UnixMilli(-5)},
	} {
		raw := encodeEntry(nil, 42<<8|3, &out)
		seq, ok := entrySeq(raw)
		if !ok || seq != 42<<8|3 {
			t.Errorf("seq %d %v", seq, ok)
		}
		back, err := decodeEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, out) {
			t.Errorf("round trip:\n got %#v\nwant %#v", back, out)
		}
	}
}

func TestEntryCut(t *testing.T) {
	out := Outgoing{Kind: OutText, Text: strings.Repeat("ab", MaxHistoryText),
		QuickReplies: []string{strings.Repeat("q", MaxHistoryText-1), "next"}}
	back, err := decodeEntry(encodeEntry(nil, 1, &out))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Text) != MaxHistoryText || !strings.HasSuffix(back.Text, "ba…") {
		t.Errorf("text of %d bytes ending in %q", len(back.Text), back.Text[len(back.Text)-6:])
	}
	if len(back.QuickReplies) != 1 {
		t.Errorf("%d quick replies kept, want the first (the second is over the bound)", len(back.QuickReplies))
	}
	big := Outgoing{Kind: OutEvent, Name: "e", Payload: strings.Repeat("x", MaxHistoryText)}
	if back, _ := decodeEntry(encodeEntry(nil, 1, &big)); back.Payload != nil || back.Name != "e" {
		t.Errorf("a payload over the bound is kept as %v (name %q)", back.Payload, back.Name)
	}
}

func TestDecodeEntryErrors(t *testing.T) {
	for _, raw := range [][]byte{{0x08}, {0x2a, 0x05, 'a'}, {0x52, 0x02, 0xff, 0xff}, {0xff}} {
		if _, err := decodeEntry(raw); err == nil {
			t.Errorf("%x decoded without an error", raw)
		}
	}
}

// FuzzDecodeEntry: no input makes the decoder panic, and what it decodes
// encodes to an entry that decodes the same.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(nil, 7, &Outgoing{Kind: OutText, Text: "hi", QuickReplies: []string{"a"}, TS: time.UnixMilli(1)}))
	f.Add(encodeEntry(nil, 9, &Outgoing{Kind: OutEvent, Name: "e", Payload: map[string]any{"k": []any{1, "x"}}}))
	f.Add([]byte{0x52, 0x02, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := decodeEntry(raw)
		if err != nil {
			return
		}
		again, err := decodeEntry(encodeEntry(nil, 1, &out))
		if err != nil {
			t.Fatalf("re-encoded entry: %v", err)
		}
		if len(out.Text) <= MaxHistoryText && again.Text != out.Text {
			t.Fatalf("text %q became %q", out.Text, again.Text)
		}
	})
}

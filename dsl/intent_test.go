package dsl

import (
	"fmt"
	"testing"
	"time"
)

func TestFindEntity(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) // a Thursday
	tests := []struct {
		kind, text string
		want       any // nil: no match
	}{
		{"email", "mail me at ann.lee+bots@mail.example.co.uk please", "ann.lee+bots@mail.example.co.uk"},
		{"email", "ann@example", nil},
		{"email", "@example.com", nil},
		{"url", "see https://example.com/a?b=1.", "https://example.com/a?b=1"},
		{"url", "(www.example.org)", "www.example.org"},
		{"url", "example.com", nil},
		{"number", "about 12 of them", 12},
		{"number", "-3.5 degrees", -3.5},
		{"number", "1,5 liter", 1.5},
		{"number", "1,000,000 dollars", 1000000},
		{"number", "two", nil},
		{"number", "v2", nil},
		{"integer", "I am 42.", 42},
		{"integer", "2.5", nil},
		{"integer", "-7", -7},
		{"date", "on 2026-12-24 please", "2026-12-24"},
		{"date", "2026-02-30", nil},
		{"date", "24 December 2026", "2026-12-24"},
		{"date", "the 3rd of march", nil},
		{"date", "3rd march", "2026-03-03"},
		{"date", "December 24, 2027", "2027-12-24"},
		{"date", "dec 24", "2026-12-24"},
		{"date", "1 january", "2026-01-01"},
		{"date", "29 feb", "2028-02-29"},
		{"date", "today", "2026-01-01"},
		{"date", "Tomorrow", "2026-01-02"},
		{"date", "yesterday", "2025-12-31"},
		{"date", "thursday", "2026-01-08"},
		{"date", "next Monday", "2026-01-05"},
		{"date", "someday", nil},
	}
	for _, tt := range tests {
		ent, ok := findEntity(tt.kind, tt.text, now)
		if tt.want == nil {
			if ok {
				t.Errorf("%s in %q: found %v, want none", tt.kind, tt.text, ent.value)
			}
			continue
		}
		if !ok || !valueIdentical(ent.value, tt.want) {
			t.Errorf("%s in %q: got %#v (%v), want %#v", tt.kind, tt.text, ent.value, ok, tt.want)
		}
	}
}

func TestTypoEqual(t *testing.T) {
	tests := []struct {
		want, got string
		ok        bool
	}{
		{"order", "order", true},
		{"order", "ordr", true},   // deletion
		{"order", "orderr", true}, // insertion
		{"order", "ordar", true},  // substitution
		{"order", "oredr", true},  // swap of neighbours
		{"order", "odrer", true},
		{"order", "ordrr", true},
		{"order", "odr", false}, // two edits
		{"order", "redro", false},
		{"card", "crad", false}, // 4 letters: exact only
		{"yes", "yess", false},
		{"größe", "grösse", false}, // two edits (ß → ss)
		{"größe", "grße", true},
	}
	for _, tt := range tests {
		if got := typoEqual(tt.want, tt.got); got != tt.ok {
			t.Errorf("typoEqual(%q, %q) = %v, want %v", tt.want, tt.got, got, tt.ok)
		}
	}
}

func TestSimilarity(t *testing.T) {
	ex := newWordSet("Can you deliver food to my house?")
	tests := []struct {
		msg  string
		want float64 // printed with 2 decimals
	}{
		{"can you deliver food to my house", 1},
		{"do you deliver?", 0.5},               // {deliv} vs {deliv, food, hous}
		{"delivering food", 0.8},               // stems
		{"delivr food", 0.8},                   // a typo in a long word
		{"the weather today", 0},               //
		{"deliveries of food to houses", 0.67}, // deliveri ≠ deliv
	}
	for _, tt := range tests {
		got := similarity(newMessage(tt.msg), &ex)
		if fmt.Sprintf("%.2f", got) != fmt.Sprintf("%.2f", tt.want) {
			t.Errorf("similarity(%q) = %.3f, want %.3f", tt.msg, got, tt.want)
		}
	}
}

// similarity is Dice's coefficient of the content words of a message and
// an example: 2 × shared / (message words + example words), where a word is
// shared when its stem is, or when it has minTypoLen letters or more and is
// one typo away from a word of the message.
func similarity(m *message, ex *wordSet) float64 {
	ms := m.content()
	if len(ms.words) == 0 || len(ex.words) == 0 {
		return 0
	}
	shared := 0
	for i, w := range ex.words {
		if m.has(w, ex.stemList[i]) {
			shared++
		}
	}
	return dice(shared, len(ms.words), len(ex.words))
}

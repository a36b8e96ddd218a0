package dsl

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitWords splits lower-case text into words of letters and digits.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// typoEqual reports whether got is want, or, when want has minTypoLen
// letters or more, one insertion, deletion, substitution or swap of two
// neighbouring letters away from it.
func typoEqual(want, got string) bool {
	if want == got {
		return true
	}
	if d := len(want) - len(got); d > 4 || d < -4 || !maybeOneEdit(want, got) || utf8.RuneCountInString(want) < minTypoLen {
		return false // one edit changes the length by at most one rune (4 bytes)
	}
	if isASCII(want) && isASCII(got) {
		return oneEditASCII(want, got)
	}
	return oneEdit([]rune(want), []rune(got))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// oneEditASCII is oneEdit on bytes, without converting the words.
func oneEditASCII(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	switch len(a) - len(b) {
	case 0:
		if i == len(a) {
			return false
		}
		return a[i+1:] == b[i+1:] || (i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:])
	case 1:
		return a[i+1:] == b[i:]
	}
	return false
}

// maybeOneEdit is a quick test that rejects most pairs of words more than
// one edit apart: one edit leaves the first or the last byte in place
// (unless the words are 2 bytes or shorter).
func maybeOneEdit(a, b string) bool {
	if len(a) <= 2 || len(b) <= 2 {
		return true
	}
	return a[0] == b[0] || a[len(a)-1] == b[len(b)-1]
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or transposition of neighbours.
func oneEdit(a, b []rune) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return false
		}
		if string(a[i+1:]) == string(b[i+1:]) {
			return true // substitution
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && string(a[i+2:]) == string(b[i+2:])
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return string(a[i+1:]) == string(b[i:])
	}
	return false
}

// didYouMean suggests the closest of names: " (did you mean label:?)", or
// "" when none is close (one edit, or two for names of 6 letters or more;
// a swap of neighbours is one edit).
func didYouMean(got string, names []string, suffix string) string {
	best, bestD := "", 1
	if utf8.RuneCountInString(got) >= 6 {
		bestD = 2
	}
	bestD++
	for _, n := range names {
		if d := osaDistance([]rune(got), []rune(n)); d < bestD && d > 0 {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", best, suffix)
}

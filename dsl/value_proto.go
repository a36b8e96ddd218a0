package dsl

import (
	"math"
	"strings"
	"unicode/utf8"
)

// validUTF8 replaces invalid UTF-8 in s by U+FFFD: protobuf strings must be
// valid UTF-8, or marshaling fails.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// SizeOf estimates the size in bytes of a value encoded with ToProto:
// numbers count 9, strings and atoms their length plus their framing, and
// lists and maps their elements plus framing. It stops walking as soon as
// the running total exceeds limit and then returns a number greater than
// limit (math.MaxInt when limit is math.MaxInt), so checking a huge value
// against a small limit is cheap. A value nested deeper than MaxValueDepth
// counts as over the limit.
func SizeOf(v any, limit int) int {
	s := valueSizer{limit: limit}
	s.add(v, 0)
	if s.over() && s.total <= limit {
		if limit == math.MaxInt {
			return limit
		}
		return limit + 1
	}
	return s.total
}

// valueSizer keeps the running total of SizeOf.
type valueSizer struct {
	limit, total int
	tooDeep      bool
}

func (s *valueSizer) over() bool { return s.tooDeep || s.total > s.limit }

// add counts v and returns how much it added: its payload without the tag
// and length that frame it inside a parent.
func (s *valueSizer) add(v any, depth int) int {
	start := s.total
	switch x := v.(type) {
	case nil, bool:
		s.total += 2
	case string:
		s.total += 1 + protoVarintSize(len(x)) + len(x)
	case Atom:
		s.total += 1 + protoVarintSize(len(x)) + len(x)
	case []any:
		s.addList(x, depth)
	case map[string]any:
		s.addMap(x, depth)
	default: // numbers, and non-canonical values ToProto would normalize
		s.total += 9
	}
	return s.total - start
}

func (s *valueSizer) addList(l []any, depth int) {
	if depth >= MaxValueDepth {
		s.tooDeep = true
		return
	}
	start := s.total
	for _, e := range l {
		n := s.add(e, depth+1)
		s.total += 1 + protoVarintSize(n)
		if s.over() {
			return
		}
	}
	s.total += 1 + protoVarintSize(s.total-start)
}

func (s *valueSizer) addMap(m map[string]any, depth int) {
	if depth >= MaxValueDepth {
		s.tooDeep = true
		return
	}
	start := s.total
	for k, e := range m {
		n := s.add(e, depth+1)
		entry := 1 + protoVarintSize(len(k)) + len(k) + 1 + protoVarintSize(n) + n
		s.total += entry - n + 1 + protoVarintSize(entry)
		if s.over() {
			return
		}
	}
	s.total += 1 + protoVarintSize(s.total-start)
}

// protoVarintSize is the number of bytes of n as a protobuf varint.
func protoVarintSize(n int) int {
	size := 1
	for ; n >= 0x80; n >>= 7 {
		size++
	}
	return size
}

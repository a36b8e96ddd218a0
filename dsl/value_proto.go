package dsl

import (
	pb "botserver/proto"

	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// ToProto encodes a value for the wire and the store. Canonical values
// round-trip exactly through FromProto, except that invalid UTF-8 in strings,
// atoms and map keys becomes U+FFFD (protobuf strings must be valid UTF-8).
// Other Go values are normalized first, which may fail as Normalize does.
func ToProto(v any) (*pb.Value, error) {
	return toProtoAt(v, 0)
}

func toProtoAt(v any, depth int) (*pb.Value, error) {
	switch x := v.(type) {
	case nil:
		return &pb.Value{Kind: &pb.Value_Nil{Nil: true}}, nil
	case bool:
		return &pb.Value{Kind: &pb.Value_Bool{Bool: x}}, nil
	case int:
		return &pb.Value{Kind: &pb.Value_Int{Int: int64(x)}}, nil
	case float64:
		return &pb.Value{Kind: &pb.Value_Float{Float: x}}, nil
	case string:
		return &pb.Value{Kind: &pb.Value_Str{Str: validUTF8(x)}}, nil
	case Atom:
		return &pb.Value{Kind: &pb.Value_Atom{Atom: validUTF8(string(x))}}, nil
	case []any:
		return listToProto(x, depth)
	case map[string]any:
		if depth >= MaxValueDepth {
			return nil, errValueTooDeep
		}
		fields, err := mapToProtoAt(x, depth+1)
		if err != nil {
			return nil, err
		}
		return &pb.Value{Kind: &pb.Value_Map{Map: &pb.Map{Fields: fields}}}, nil
	}
	n, err := normalizeAt(v, depth)
	if err != nil {
		return nil, err
	}
	return toProtoAt(n, depth)
}

func listToProto(l []any, depth int) (*pb.Value, error) {
	if depth >= MaxValueDepth {
		return nil, errValueTooDeep
	}
	items := make([]*pb.Value, len(l))
	for i, e := range l {
		p, err := toProtoAt(e, depth+1)
		if err != nil {
			return nil, err
		}
		items[i] = p
	}
	return &pb.Value{Kind: &pb.Value_List{List: &pb.List{Items: items}}}, nil
}

// MapToProto encodes a map of variables, as ToProto does for each value.
// A nil map gives a nil map.
func MapToProto(m map[string]any) (map[string]*pb.Value, error) {
	if m == nil {
		return nil, nil
	}
	return mapToProtoAt(m, 0)
}

func mapToProtoAt(m map[string]any, depth int) (map[string]*pb.Value, error) {
	out := make(map[string]*pb.Value, len(m))
	for k, e := range m {
		p, err := toProtoAt(e, depth)
		if err != nil && depth == 0 {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if err != nil {
			return nil, err
		}
		out[validUTF8(k)] = p
	}
	return out, nil
}

// validUTF8 replaces invalid UTF-8 in s by U+FFFD: protobuf strings must be
// valid UTF-8, or marshaling fails.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// FromProto decodes a value written by ToProto. A nil message, or one with
// no kind set, decodes to nil; empty lists and maps decode to empty,
// non-nil containers.
func FromProto(p *pb.Value) any {
	switch k := p.GetKind().(type) {
	case *pb.Value_Bool:
		return k.Bool
	case *pb.Value_Int:
		return int(k.Int)
	case *pb.Value_Float:
		return k.Float
	case *pb.Value_Str:
		return k.Str
	case *pb.Value_Atom:
		return Atom(k.Atom)
	case *pb.Value_List:
		items := k.List.GetItems()
		out := make([]any, len(items))
		for i, e := range items {
			out[i] = FromProto(e)
		}
		return out
	case *pb.Value_Map:
		return MapFromProto(k.Map.GetFields())
	}
	return nil
}

// MapFromProto decodes a map written by MapToProto. It always returns a
// non-nil map, empty for a nil argument.
func MapFromProto(m map[string]*pb.Value) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = FromProto(e)
	}
	return out
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

package dsl

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	pb "botserver/proto"

	"google.golang.org/protobuf/proto"
)

// valueIdentical reports whether two values are the same down to their Go
// types: unlike Equal, 1 and 1.0 differ, an empty list differs from nil, and
// a NaN equals a NaN with the same bits.
func valueIdentical(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		if !ok || x == nil || y == nil || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueIdentical(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || x == nil || y == nil || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valueIdentical(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b) && a == b
}

// valueNested wraps leaf in depth lists.
func valueNested(depth int, leaf any) any {
	v := leaf
	for range depth {
		v = []any{v}
	}
	return v
}

// valueRoundTrip sends v through ToProto, the wire and FromProto.
func valueRoundTrip(tb testing.TB, v any) any {
	tb.Helper()
	p, err := ToProto(v)
	if err != nil {
		tb.Fatalf("ToProto(%#v): %v", v, err)
	}
	data, err := proto.Marshal(p)
	if err != nil {
		tb.Fatalf("proto.Marshal(%#v): %v", v, err)
	}
	var back pb.Value
	if err := proto.Unmarshal(data, &back); err != nil {
		tb.Fatalf("proto.Unmarshal: %v", err)
	}
	return FromProto(&back)
}

func TestProtoRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"true", true},
		{"false", false},
		{"zero", 0},
		{"negative int", -42},
		{"max int", math.MaxInt},
		{"min int", math.MinInt},
		{"whole float", 2.0},
		{"zero float", 0.0},
		{"negative zero float", math.Copysign(0, -1)},
		{"fraction", 1.5},
		{"huge float", 1e300},
		{"infinity", math.Inf(-1)},
		{"NaN", math.NaN()},
		{"empty string", ""},
		{"string", "héllo\n\"wörld\""},
		{"atom", Atom("master")},
		{"empty atom", Atom("")},
		{"empty list", []any{}},
		{"empty map", map[string]any{}},
		{"list of every kind", []any{nil, true, 1, 1.0, 2.5, "s", Atom("a"), []any{}, map[string]any{}}},
		{"map of every kind", map[string]any{"n": nil, "b": false, "i": 3, "f": 3.0, "s": "", "a": Atom("x"), "l": []any{}, "m": map[string]any{}}},
		{"nested", map[string]any{"users": []any{map[string]any{"name": "Ann", "tags": []any{Atom("vip"), 7.0}}}}},
		{"deepest allowed", valueNested(MaxValueDepth, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := valueRoundTrip(t, tt.v); !valueIdentical(got, tt.v) {
				t.Errorf("got %#v, want %#v", got, tt.v)
			}
		})
	}
}

func TestToProtoNormalizesAndFails(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		want    any
		wantErr string
	}{
		{"int32", int32(7), 7, ""},
		{"string slice", []string{"a"}, []any{"a"}, ""},
		{"nested uint8 in list", []any{uint8(3)}, []any{3}, ""},
		{"invalid utf-8", "a\xffb", "a\uFFFDb", ""},
		{"invalid utf-8 key", map[string]any{"\xff": 1}, map[string]any{"\uFFFD": 1}, ""},
		{"channel", make(chan int), nil, "cannot store a value of type chan int"},
		{"too deep", valueNested(MaxValueDepth+1, 1), nil, "nested deeper than 100 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ToProto(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got := FromProto(p); !valueIdentical(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestFromProtoDegenerate(t *testing.T) {
	tests := []struct {
		name string
		p    *pb.Value
		want any
	}{
		{"nil message", nil, nil},
		{"no kind", &pb.Value{}, nil},
		{"nil list", &pb.Value{Kind: &pb.Value_List{}}, []any{}},
		{"nil map", &pb.Value{Kind: &pb.Value_Map{}}, map[string]any{}},
		{"nil item", &pb.Value{Kind: &pb.Value_List{List: &pb.List{Items: []*pb.Value{nil}}}}, []any{nil}},
		{"nil field", &pb.Value{Kind: &pb.Value_Map{Map: &pb.Map{Fields: map[string]*pb.Value{"k": nil}}}}, map[string]any{"k": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromProto(tt.p); !valueIdentical(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMapProto(t *testing.T) {
	if got, err := MapToProto(nil); got != nil || err != nil {
		t.Errorf("MapToProto(nil): got %v, %v, want nil, nil", got, err)
	}
	if got := MapFromProto(nil); got == nil || len(got) != 0 {
		t.Errorf("MapFromProto(nil): got %#v, want an empty map", got)
	}
	vars := map[string]any{"count": 2, "ratio": 2.0, "who": Atom("master"), "list": []any{}}
	p, err := MapToProto(vars)
	if err != nil {
		t.Fatalf("MapToProto: %v", err)
	}
	if got := MapFromProto(p); !valueIdentical(got, vars) {
		t.Errorf("got %#v, want %#v", got, vars)
	}
	_, err = MapToProto(map[string]any{"cb": func() {}})
	if want := "cb: cannot store a value of type func()"; err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, ""},
		{"true", true, "true"},
		{"false", false, "false"},
		{"int", -12, "-12"},
		{"whole float", 2.0, "2"},
		{"negative zero", math.Copysign(0, -1), "0"},
		{"2^53", 1 << 53, "9007199254740992"},
		{"float 2^53", float64(1 << 53), "9007199254740992"},
		{"whole float above 2^53", 1e20, "100000000000000000000"},
		{"fraction", 1.5, "1.5"},
		{"third", 1.0 / 3, "0.3333333333333333"},
		{"small", 0.000001, "0.000001"},
		{"tiny", 1.5e-7, "1.5e-07"},
		{"huge", 1e21, "1e+21"},
		{"NaN", math.NaN(), "NaN"},
		{"infinity", math.Inf(1), "+Inf"},
		{"string", "hi there", "hi there"},
		{"atom", Atom("timeout"), "timeout"},
		{"empty list", []any{}, "[]"},
		{"empty map", map[string]any{}, "{}"},
		{"list", []any{1, 2.0, 2.5, "a", Atom("b"), nil, true}, `[1,2,2.5,"a","b",null,true]`},
		{"map sorted", map[string]any{"b": 1, "a": []any{}, "c": map[string]any{"z": nil}}, `{"a":[],"b":1,"c":{"z":null}}`},
		{"escapes", []any{"q\"\\\n\t\x01<&>"}, `["q\"\\\n\t\u0001<&>"]`},
		{"invalid utf-8 in json", []any{"\xff"}, "[\"\uFFFD\"]"},
		{"NaN in json", []any{math.NaN(), math.Inf(1)}, "[null,null]"},
		{"non-canonical scalar", int32(4), "4"},
		{"non-canonical in list", []any{[]string{"x"}}, `[["x"]]`},
		{"unstorable in list", []any{make(chan int)}, `[null]`},
		{"too deep", valueNested(MaxValueDepth+1, 1), strings.Repeat("[", MaxValueDepth) + "null" + strings.Repeat("]", MaxValueDepth)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.v); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatCyclic(t *testing.T) {
	l := []any{nil}
	l[0] = l
	if got := Format(l); !strings.HasSuffix(got, "null"+strings.Repeat("]", MaxValueDepth)) {
		t.Errorf("got %q, want a cut-off list", got)
	}
}

func TestNormalize(t *testing.T) {
	type named string
	type myInt int16
	tests := []struct {
		name    string
		v       any
		want    any
		wantErr string
	}{
		{"nil", nil, nil, ""},
		{"canonical int", 5, 5, ""},
		{"int8", int8(-5), -5, ""},
		{"int64", int64(math.MinInt64), math.MinInt, ""},
		{"uint8", uint8(200), 200, ""},
		{"uint64 max int", uint64(math.MaxInt64), math.MaxInt, ""},
		{"uint64 overflow", uint64(math.MaxUint64), nil, "cannot store the number 18446744073709551615: too large"},
		{"uintptr", uintptr(1), 1, ""},
		{"named int", myInt(3), 3, ""},
		{"float32", float32(0.5), 0.5, ""},
		{"whole float stays float", 3.0, 3.0, ""},
		{"named string", named("x"), "x", ""},
		{"atom", Atom("a"), Atom("a"), ""},
		{"json int", json.Number("12"), 12, ""},
		{"json float", json.Number("1.5"), 1.5, ""},
		{"json whole float", json.Number("2.0"), 2.0, ""},
		{"json big int", json.Number("1e400"), nil, "cannot store the number \"1e400\""},
		{"json bad", json.Number("x"), nil, "cannot store the number \"x\""},
		{"duration", 1500 * time.Millisecond, 1.5, ""},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), "2024-01-02T03:04:05.000000006Z", ""},
		{"string slice", []string{"a", "b"}, []any{"a", "b"}, ""},
		{"int slice", []int{1}, []any{1}, ""},
		{"array", [2]int64{1, 2}, []any{1, 2}, ""},
		{"nil any slice", []any(nil), []any{}, ""},
		{"nested slices", [][]any{{int16(1)}}, []any{[]any{1}}, ""},
		{"string map", map[string]string{"k": "v"}, map[string]any{"k": "v"}, ""},
		{"named key map", map[named]int{"k": 1}, map[string]any{"k": 1}, ""},
		{"nil map", map[string]any(nil), map[string]any{}, ""},
		{"any key map of strings", map[any]any{"k": uint(1)}, map[string]any{"k": 1}, ""},
		{"any key map of ints", map[any]any{1: 1}, nil, "cannot store a map with a key of type int: map keys must be strings"},
		{"int key map", map[int]string{}, nil, "cannot store a value of type map[int]string: map keys must be strings"},
		{"channel", make(chan int), nil, "cannot store a value of type chan int"},
		{"func", func() {}, nil, "cannot store a value of type func()"},
		{"struct", struct{}{}, nil, "cannot store a value of type struct {}"},
		{"pointer", new(int), nil, "cannot store a value of type *int"},
		{"complex", complex(1, 2), nil, "cannot store a value of type complex128"},
		{"channel inside list", []any{1, make(chan int)}, nil, "cannot store a value of type chan int"},
		{"deepest allowed", valueNested(MaxValueDepth, 1), valueNested(MaxValueDepth, 1), ""},
		{"too deep", valueNested(MaxValueDepth+1, 1), nil, "cannot store a value nested deeper than 100 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %#v, %v, want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !valueIdentical(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestNormalizeCyclic(t *testing.T) {
	l := []any{1, nil}
	l[1] = l
	m := map[string]any{}
	m["self"] = m
	for name, v := range map[string]any{"list": l, "map": m} {
		t.Run(name, func(t *testing.T) {
			if _, err := Normalize(v); err == nil {
				t.Errorf("got no error, want the depth limit")
			}
		})
	}
}

func TestNormalizeCopies(t *testing.T) {
	in := []any{[]any{1}, map[string]any{"k": 1}}
	out, err := Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	out.([]any)[0].([]any)[0] = 2
	out.([]any)[1].(map[string]any)["k"] = 2
	if want := []any{[]any{1}, map[string]any{"k": 1}}; !valueIdentical(in, want) {
		t.Errorf("got input %#v after changing the result, want %#v", in, want)
	}
}

func TestSizeOfCloseToProto(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"float", 1.5},
		{"string", strings.Repeat("x", 300)},
		{"atom", Atom("master")},
		{"list", []any{"a", 1.5, nil, []any{}, map[string]any{}}},
		{"map", map[string]any{"name": "Ann", "tags": []any{"x", "y"}, "n": nil}},
		{"big list", make([]any, 20000)},
		{"long string in map", map[string]any{strings.Repeat("k", 200): strings.Repeat("v", 70000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ToProto(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			got, want := SizeOf(tt.v, math.MaxInt), proto.Size(p)
			if got != want {
				t.Errorf("got %d, want %d (proto.Size)", got, want)
			}
		})
	}
}

func TestSizeOfNumbers(t *testing.T) {
	for _, v := range []any{0, math.MinInt, 2.0} {
		if got := SizeOf(v, 100); got != 9 {
			t.Errorf("SizeOf(%v): got %d, want 9", v, got)
		}
	}
}

func TestSizeOfStopsEarly(t *testing.T) {
	big := make([]any, 1_000_000)
	for i := range big {
		big[i] = "0123456789"
	}
	tests := []struct {
		name  string
		v     any
		limit int
		max   int // SizeOf must return more than limit but at most this
	}{
		{"huge list", big, 1000, 1020},
		{"huge nested list", []any{[]any{big}}, 1000, 1020},
		{"huge map", map[string]any{"a": big, "b": big}, 1000, 1020},
		{"too deep", valueNested(MaxValueDepth+1, nil), 1 << 20, 1<<20 + 1},
		{"too deep, no limit", valueNested(MaxValueDepth+1, nil), math.MaxInt, math.MaxInt},
		{"negative limit", nil, -1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SizeOf(tt.v, tt.limit)
			if got <= tt.limit && tt.limit != math.MaxInt || got > tt.max {
				t.Errorf("got %d, want more than %d and at most %d", got, tt.limit, tt.max)
			}
		})
	}
}

func TestSizeOfCyclic(t *testing.T) {
	l := []any{nil}
	l[0] = l
	if got := SizeOf(l, math.MaxInt); got != math.MaxInt {
		t.Errorf("got %d, want math.MaxInt", got)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"nils", nil, nil, true},
		{"nil and false", nil, false, false},
		{"nil and empty list", nil, []any{}, false},
		{"bools", true, true, true},
		{"different bools", true, false, false},
		{"int and whole float", 1, 1.0, true},
		{"whole float and int", 1.0, 1, true},
		{"int and fraction", 1, 1.5, false},
		{"big int and rounded float", 1<<53 + 1, float64(1 << 53), false},
		{"max int and 2^63", math.MaxInt, 9223372036854775808.0, false},
		{"min int and -2^63", math.MinInt, -9223372036854775808.0, true},
		{"NaN", math.NaN(), math.NaN(), false},
		{"zeros", 0.0, math.Copysign(0, -1), true},
		{"number and string", 1, "1", false},
		{"strings", "a", "a", true},
		{"atoms", Atom("a"), Atom("a"), true},
		{"atom and string", Atom("a"), "a", false},
		{"string and atom", "a", Atom("a"), false},
		{"different atoms", Atom("a"), Atom("b"), false},
		{"lists", []any{1, "x", []any{2.0}}, []any{1.0, "x", []any{2}}, true},
		{"list lengths", []any{1}, []any{1, 1}, false},
		{"list and map", []any{}, map[string]any{}, false},
		{"maps", map[string]any{"a": 1, "b": []any{}}, map[string]any{"b": []any{}, "a": 1.0}, true},
		{"map values", map[string]any{"a": 1}, map[string]any{"a": 2}, false},
		{"map keys", map[string]any{"a": 1}, map[string]any{"b": 1}, false},
		{"nil map value and missing key", map[string]any{"a": nil}, map[string]any{"b": nil}, false},
		{"list and string", []any{"a"}, "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTruthyAndTypeName(t *testing.T) {
	tests := []struct {
		v      any
		truthy bool
		name   string
	}{
		{nil, false, "nil"},
		{false, false, "bool"},
		{true, true, "bool"},
		{0, true, "number"},
		{0.0, true, "number"},
		{"", true, "string"},
		{Atom("a"), true, "atom"},
		{[]any{}, true, "list"},
		{map[string]any{}, true, "map"},
		{int64(1), true, "number"},
		{[]string{}, true, "list"},
		{make(chan int), true, "chan int"},
	}
	for _, tt := range tests {
		t.Run(Format(tt.v), func(t *testing.T) {
			if got := Truthy(tt.v); got != tt.truthy {
				t.Errorf("Truthy(%#v): got %v, want %v", tt.v, got, tt.truthy)
			}
			if got := TypeName(tt.v); got != tt.name {
				t.Errorf("TypeName(%#v): got %q, want %q", tt.v, got, tt.name)
			}
		})
	}
}

// fuzzValueReader hands out fuzz bytes; it reads zeros once they run out.
type fuzzValueReader struct{ data []byte }

func (r *fuzzValueReader) next() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fuzzValueReader) uint64() uint64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = r.next()
	}
	return binary.LittleEndian.Uint64(buf[:])
}

func (r *fuzzValueReader) string() string {
	n := int(r.next() % 16)
	b := make([]byte, n)
	for i := range b {
		b[i] = r.next()
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// value builds a value from the fuzz bytes, nesting at most 6 deep.
func (r *fuzzValueReader) value(depth int) any {
	kind := r.next() % 8
	if depth >= 6 && kind >= 6 {
		kind = 0
	}
	switch kind {
	case 1:
		return r.next()%2 == 1
	case 2:
		return int(int64(r.uint64()))
	case 3:
		return math.Float64frombits(r.uint64())
	case 4:
		return r.string()
	case 5:
		return Atom(r.string())
	case 6:
		l := make([]any, r.next()%5)
		for i := range l {
			l[i] = r.value(depth + 1)
		}
		return l
	case 7:
		m := map[string]any{}
		for range r.next() % 5 {
			m[r.string()] = r.value(depth + 1)
		}
		return m
	}
	return nil
}

// valueHasNaN reports whether a NaN is anywhere in v (Equal is false then).
func valueHasNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x)
	case []any:
		for _, e := range x {
			if valueHasNaN(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if valueHasNaN(e) {
				return true
			}
		}
	}
	return false
}

func FuzzValueRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 0x40})
	f.Add([]byte{6, 3, 4, 2, 'h', 'i', 5, 1, 'a', 7, 1, 1, 'k', 0})
	f.Add([]byte{7, 2, 0, 6, 0, 1, 'x', 3, 1, 2, 3, 4, 5, 6, 7, 0xf8})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzValueReader{data: data}
		v := r.value(0)
		got := valueRoundTrip(t, v)
		if !valueIdentical(got, v) {
			t.Fatalf("got %#v, want %#v", got, v)
		}
		if !valueHasNaN(v) && !Equal(got, v) {
			t.Fatalf("Equal(%#v, %#v) is false", got, v)
		}
		p, _ := ToProto(v)
		if size, want := SizeOf(v, math.MaxInt), proto.Size(p); size < want*3/4 || size > want*5+16 {
			t.Fatalf("SizeOf: got %d, proto.Size is %d", size, want)
		}
		if n, err := Normalize(v); err != nil || !valueIdentical(n, v) {
			t.Fatalf("Normalize: got %#v, %v, want %#v", n, err, v)
		}
		_ = Format(v)
	})
}

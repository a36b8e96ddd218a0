package dsl

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Script values live in memory in one canonical Go form, shared by the
// interpreter and by expr-lang/expr:
//
//	nil                nil
//	true, false        bool
//	3                  int (whole numbers)
//	1.5                float64 (fractional numbers; 2.0 stays a float64)
//	"text"             string
//	:name              Atom
//	[1, "a"]           []any
//	[k: 1], {k: 1}     map[string]any
//
// Normalize turns any other Go value into this form; every other function in
// this file expects canonical values.

// Atom is a symbolic constant such as :master or :timeout. It equals only
// the same atom, never the string with the same name.
type Atom string

// MaxValueDepth is how deeply lists and maps may be nested in a value: a list
// inside a list is depth 2. Normalize and ToProto refuse deeper values, SizeOf
// counts them as over any limit, and Format, Equal and sorting stop looking
// below this depth, so a cyclic value can never make them recurse forever.
const MaxValueDepth = 100

// errValueTooDeep is returned by Normalize and ToProto for values nested
// deeper than MaxValueDepth.
var errValueTooDeep = fmt.Errorf("cannot store a value nested deeper than %d levels", MaxValueDepth)

// Normalize converts a Go value produced by expr-lang/expr or by JSON
// decoding into the canonical form. Whole-number kinds become int (an error
// if the number does not fit), float32 becomes float64, slices and arrays
// become []any, maps with string keys become map[string]any, json.Number
// becomes int or float64, time.Duration becomes float64 seconds and
// time.Time an RFC 3339 string. Containers are always copied. Functions,
// channels, structs, pointers and maps with other keys are an error.
func Normalize(v any) (any, error) {
	return normalizeAt(v, 0)
}

func normalizeAt(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, bool, int, float64, string, Atom:
		return x, nil
	case float32:
		return float64(x), nil
	case json.Number:
		return normalizeJSONNumber(x)
	case time.Duration:
		return x.Seconds(), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case *Intent:
		return x.view(), nil
	case []any:
		return normalizeList(x, depth)
	case map[string]any:
		return normalizeStringMap(x, depth)
	}
	return normalizeReflect(reflect.ValueOf(v), depth)
}

func normalizeList(l []any, depth int) (any, error) {
	if depth >= MaxValueDepth {
		return nil, errValueTooDeep
	}
	out := make([]any, len(l))
	for i, e := range l {
		n, err := normalizeAt(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func normalizeStringMap(m map[string]any, depth int) (any, error) {
	if depth >= MaxValueDepth {
		return nil, errValueTooDeep
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		n, err := normalizeAt(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

func normalizeJSONNumber(n json.Number) (any, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
		return int(i), nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("cannot store the number %q: %w", string(n), err)
	}
	return f, nil
}

// normalizeReflect handles named types and container kinds the type switch
// in normalizeAt does not list.
func normalizeReflect(rv reflect.Value, depth int) (any, error) {
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := rv.Int()
		if i < math.MinInt || i > math.MaxInt {
			return nil, fmt.Errorf("cannot store the number %d: too large", i)
		}
		return int(i), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt {
			return nil, fmt.Errorf("cannot store the number %d: too large", u)
		}
		return int(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice, reflect.Array:
		return normalizeSeq(rv, depth)
	case reflect.Map:
		return normalizeMap(rv, depth)
	case reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return normalizeAt(rv.Elem().Interface(), depth)
	}
	return nil, fmt.Errorf("cannot store a value of type %s", rv.Type())
}

func normalizeSeq(rv reflect.Value, depth int) (any, error) {
	if depth >= MaxValueDepth {
		return nil, errValueTooDeep
	}
	out := make([]any, rv.Len())
	for i := range out {
		n, err := normalizeAt(rv.Index(i).Interface(), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// normalizeMap accepts maps whose key type is a string kind, and maps with
// interface keys (expr's fromPairs and groupBy make map[any]any) as long as
// every key holds a string.
func normalizeMap(rv reflect.Value, depth int) (any, error) {
	keyKind := rv.Type().Key().Kind()
	if keyKind != reflect.String && keyKind != reflect.Interface {
		return nil, fmt.Errorf("cannot store a value of type %s: map keys must be strings", rv.Type())
	}
	if depth >= MaxValueDepth {
		return nil, errValueTooDeep
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k := it.Key()
		if k.Kind() == reflect.Interface {
			k = k.Elem()
		}
		if k.Kind() != reflect.String {
			return nil, fmt.Errorf("cannot store a map with a key of type %s: map keys must be strings", reflectTypeName(k))
		}
		n, err := normalizeAt(it.Value().Interface(), depth+1)
		if err != nil {
			return nil, err
		}
		out[k.String()] = n
	}
	return out, nil
}

func reflectTypeName(v reflect.Value) string {
	if !v.IsValid() {
		return "nil"
	}
	return v.Type().String()
}

// Format renders a value the way `say` and `#{}` interpolation print it:
// nil as "", whole numbers without a decimal point, atoms by their name,
// strings as they are, and lists and maps as compact JSON with sorted keys.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case Atom:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloatValue(x)
	case *Intent:
		return x.Name()
	case []any, map[string]any:
		var b strings.Builder
		writeValueJSON(&b, x, 0)
		return b.String()
	}
	if n, err := Normalize(v); err == nil {
		return Format(n)
	}
	return fmt.Sprint(v)
}

// formatFloatValue prints whole floats within ±2^53 as integers, and other
// floats in the shortest form that reads back the same, without an exponent
// for magnitudes from 1e-6 up to 1e21.
func formatFloatValue(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// writeValueJSON writes v as compact JSON. Atoms become strings, NaN and
// infinities (which JSON cannot hold) become null, as does anything nested
// deeper than MaxValueDepth or that Normalize refuses.
func writeValueJSON(b *strings.Builder, v any, depth int) {
	switch x := v.(type) {
	case string:
		writeJSONString(b, x)
	case Atom:
		writeJSONString(b, string(x))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			return
		}
		b.WriteString(formatFloatValue(x))
	case []any:
		writeJSONList(b, x, depth)
	case map[string]any:
		writeJSONMap(b, x, depth)
	default:
		if n, err := Normalize(v); err == nil && n != nil {
			writeValueJSON(b, n, depth)
			return
		}
		b.WriteString("null")
	}
}

func writeJSONList(b *strings.Builder, l []any, depth int) {
	if depth >= MaxValueDepth {
		b.WriteString("null")
		return
	}
	b.WriteByte('[')
	for i, e := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		writeValueJSON(b, e, depth+1)
	}
	b.WriteByte(']')
}

func writeJSONMap(b *strings.Builder, m map[string]any, depth int) {
	if depth >= MaxValueDepth {
		b.WriteString("null")
		return
	}
	b.WriteByte('{')
	for i, k := range sortedMapKeys(m) {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, k)
		b.WriteByte(':')
		writeValueJSON(b, m[k], depth+1)
	}
	b.WriteByte('}')
}

// writeJSONString quotes s for JSON without HTML escaping; invalid UTF-8
// becomes U+FFFD.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes
		}
	}
	b.WriteByte('"')
}

// sortedMapKeys returns the keys of m in ascending byte order.
func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Equal reports whether two canonical values are equal: numbers compare by
// value across int and float64 (1 == 1.0, NaN equals nothing), an atom
// equals only the same atom, and lists and maps compare element by element.
func Equal(a, b any) bool {
	return equalAt(a, b, 0)
}

func equalAt(a, b any, depth int) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, string, Atom:
		return a == b // a's type is comparable, so this cannot panic
	case int, float64:
		c, ok := compareNumberValues(x, b)
		return ok && c == 0
	case []any:
		return equalLists(x, b, depth)
	case map[string]any:
		return equalMaps(x, b, depth)
	case *Intent:
		y, ok := b.(*Intent)
		return ok && x.ID == y.ID
	}
	return false
}

func equalLists(x []any, b any, depth int) bool {
	y, ok := b.([]any)
	if !ok || len(x) != len(y) {
		return false
	}
	if depth >= MaxValueDepth {
		return len(x) == 0
	}
	for i := range x {
		if !equalAt(x[i], y[i], depth+1) {
			return false
		}
	}
	return true
}

func equalMaps(x map[string]any, b any, depth int) bool {
	y, ok := b.(map[string]any)
	if !ok || len(x) != len(y) {
		return false
	}
	if depth >= MaxValueDepth {
		return len(x) == 0
	}
	for k, xv := range x {
		yv, ok := y[k]
		if !ok || !equalAt(xv, yv, depth+1) {
			return false
		}
	}
	return true
}

// compareNumberValues compares two numbers (int or float64) exactly, without
// rounding a large int to a float. ok is false when either is not a number
// or is NaN.
func compareNumberValues(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return cmp.Compare(x, y), true
		case float64:
			c, ok := compareIntFloat(x, y)
			return c, ok
		}
	case float64:
		switch y := b.(type) {
		case int:
			c, ok := compareIntFloat(y, x)
			return -c, ok
		case float64:
			if math.IsNaN(x) || math.IsNaN(y) {
				return 0, false
			}
			return cmp.Compare(x, y), true
		}
	}
	return 0, false
}

func compareIntFloat(i int, f float64) (int, bool) {
	const two63 = 9223372036854775808.0
	switch {
	case math.IsNaN(f):
		return 0, false
	case f >= two63:
		return -1, true
	case f < -two63:
		return 1, true
	}
	t := math.Trunc(f)
	if c := cmp.Compare(int64(i), int64(t)); c != 0 {
		return c, true
	}
	return cmp.Compare(t, f), true
}

// Truthy reports whether a value counts as true in a condition: only nil
// and false are false; 0, "" and empty lists are true.
func Truthy(v any) bool {
	return v != nil && v != false
}

// TypeName names the kind of a value for error messages: "nil", "bool",
// "number", "string", "atom", "list" or "map". A value of any other Go type
// is named by that type.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case Atom:
		return "atom"
	case *Intent:
		return "intent"
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

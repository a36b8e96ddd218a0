package dsl

import (
	"cmp"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// pureBuiltinFunc is the shape expr.Function expects.
type pureBuiltinFunc = func(args ...any) (any, error)

// builtinSet holds the state the pure built-in functions share: a bounded
// cache of compiled regular expressions. It is safe for concurrent use, so
// one set can serve every actor.
type builtinSet struct {
	regexps builtinRegexpCache
}

// newBuiltins returns a builtinSet with an empty regexp cache.
func newBuiltins() *builtinSet {
	return &builtinSet{regexps: builtinRegexpCache{max: 256}}
}

// pureBuiltinSpec is one built-in function: how many arguments it takes
// (max < 0 for no upper bound) and what it does once they are counted.
type pureBuiltinSpec struct {
	min, max int
	fn       func(args []any) (any, error)
}

// funcs returns the built-in functions by the names scripts call them,
// ready for expr.Function. Each checks its argument count, and its errors
// start with its name, e.g. "upcase: want a string, got list".
func (b *builtinSet) funcs() map[string]pureBuiltinFunc {
	specs := map[string]pureBuiltinSpec{
		"length":        {1, 1, builtinLength},
		"first":         {1, 1, func(a []any) (any, error) { return builtinEnd(a[0], true) }},
		"last":          {1, 1, func(a []any) (any, error) { return builtinEnd(a[0], false) }},
		"join":          {1, 2, builtinJoin},
		"split":         {1, 2, builtinSplit},
		"keys":          {1, 1, builtinKeys},
		"values":        {1, 1, builtinValues},
		"sort":          {1, 1, builtinSort},
		"uniq":          {1, 1, builtinUniq},
		"downcase":      {1, 1, stringBuiltin(strings.ToLower)},
		"upcase":        {1, 1, stringBuiltin(strings.ToUpper)},
		"capitalize":    {1, 1, stringBuiltin(capitalizeString)},
		"replace":       {3, 3, builtinReplace},
		"regex_replace": {3, 3, b.regexReplace},
		"group_name":    {1, -1, builtinGroupName},
	}
	out := make(map[string]pureBuiltinFunc, len(specs))
	for name, spec := range specs {
		out[name] = spec.bind(name)
	}
	return out
}

// bind wraps the spec's function with the argument count check and the
// name prefix of its errors.
func (s pureBuiltinSpec) bind(name string) pureBuiltinFunc {
	return func(args ...any) (any, error) {
		if err := checkBuiltinArgs(len(args), s.min, s.max); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		v, err := s.fn(args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return v, nil
	}
}

func checkBuiltinArgs(n, lo, hi int) error {
	plural := func(k int) string {
		if k == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", k)
	}
	switch {
	case hi < 0 && n < lo:
		return fmt.Errorf("want at least %s, got %d", plural(lo), n)
	case hi < 0 || (n >= lo && n <= hi):
		return nil
	case lo == hi:
		return fmt.Errorf("want %s, got %d", plural(lo), n)
	case hi == lo+1:
		return fmt.Errorf("want %d or %s, got %d", lo, plural(hi), n)
	}
	return fmt.Errorf("want %d to %s, got %d", lo, plural(hi), n)
}

// builtinWantError describes an argument of the wrong kind.
func builtinWantError(want string, got any) error {
	return fmt.Errorf("want %s, got %s", want, TypeName(got))
}

// argAsString accepts a string.
func argAsString(v any, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", builtinWantError(what, v)
	}
	return s, nil
}

// argAsList accepts a list; nil counts as the empty list, and other Go slice
// types are normalized.
func argAsList(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case nil:
		return nil, nil
	}
	if k := reflect.TypeOf(v).Kind(); k == reflect.Slice || k == reflect.Array {
		n, err := Normalize(v)
		if err != nil {
			return nil, err
		}
		return n.([]any), nil
	}
	return nil, builtinWantError("a list", v)
}

// argAsMap accepts a map; nil counts as the empty map, and other Go maps with
// string keys are normalized.
func argAsMap(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case nil:
		return nil, nil
	}
	if reflect.TypeOf(v).Kind() == reflect.Map {
		n, err := Normalize(v)
		if err != nil {
			return nil, err
		}
		return n.(map[string]any), nil
	}
	return nil, builtinWantError("a map", v)
}

// builtinLength counts the runes of a string or the items of a list or map;
// nil has length 0.
func builtinLength(args []any) (any, error) {
	switch x := args[0].(type) {
	case nil:
		return 0, nil
	case string:
		return utf8.RuneCountInString(x), nil
	case Atom:
		return nil, builtinWantError("a string, list or map", x)
	}
	switch rv := reflect.ValueOf(args[0]); rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), nil
	case reflect.String:
		return utf8.RuneCountInString(rv.String()), nil
	}
	return nil, builtinWantError("a string, list or map", args[0])
}

// builtinEnd implements first and last: an item of a list or a rune of a
// string, nil when there is none.
func builtinEnd(v any, first bool) (any, error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return nil, nil
		}
		r, _ := utf8.DecodeRuneInString(s)
		if !first {
			r, _ = utf8.DecodeLastRuneInString(s)
		}
		return string(r), nil
	}
	l, err := argAsList(v)
	if err != nil {
		return nil, builtinWantError("a list or string", v)
	}
	if len(l) == 0 {
		return nil, nil
	}
	if first {
		return l[0], nil
	}
	return l[len(l)-1], nil
}

// builtinJoin formats the items of a list and joins them with a separator,
// "" by default.
func builtinJoin(args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	sep := ""
	if len(args) == 2 {
		if sep, err = argAsString(args[1], "a string separator"); err != nil {
			return nil, err
		}
	}
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = Format(e)
	}
	return strings.Join(parts, sep), nil
}

// builtinSplit splits a string at a separator, or at runs of white space
// when there is none.
func builtinSplit(args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	var parts []string
	if len(args) == 2 {
		sep, err := argAsString(args[1], "a string separator")
		if err != nil {
			return nil, err
		}
		parts = strings.Split(s, sep)
	} else {
		parts = strings.Fields(s)
	}
	return stringsToList(parts), nil
}

// builtinKeys returns the keys of a map, sorted.
func builtinKeys(args []any) (any, error) {
	m, err := argAsMap(args[0])
	if err != nil {
		return nil, err
	}
	return stringsToList(sortedMapKeys(m)), nil
}

// builtinValues returns the values of a map in the order of their sorted
// keys.
func builtinValues(args []any) (any, error) {
	m, err := argAsMap(args[0])
	if err != nil {
		return nil, err
	}
	keys := sortedMapKeys(m)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out, nil
}

// builtinSort returns a sorted copy of a list, in the order of
// sortCompare.
func builtinSort(args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	out := slices.Clone(l)
	if out == nil {
		out = []any{}
	}
	slices.SortStableFunc(out, func(a, b any) int { return sortCompare(a, b, 0) })
	return out, nil
}

// builtinUniq returns a list without repeated items (by Equal), keeping
// first occurrences. Scalars are found by hashing; only lists and maps are
// compared one by one.
func builtinUniq(args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	out := []any{}
	seen := map[any]bool{}
	var containers []any
	for _, e := range l {
		if key, ok := uniqKey(e); ok {
			if !seen[key] {
				seen[key] = true
				out = append(out, e)
			}
			continue
		}
		if !slices.ContainsFunc(containers, func(c any) bool { return Equal(c, e) }) {
			containers = append(containers, e)
			out = append(out, e)
		}
	}
	return out, nil
}

// uniqKey maps a scalar to a hashable key such that Equal scalars share a
// key: a whole float in int range is keyed as the int. Lists, maps and NaN
// have no key.
func uniqKey(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return struct{}{}, true
	case bool, int, string, Atom:
		return x, true
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int(x), true
		}
		return x, !math.IsNaN(x)
	}
	return nil, false
}

// sortCompare orders any two values: first by kind (nil < bool < number
// < atom < string < list < map), then numbers by value (NaN first), atoms
// and strings by bytes, lists item by item, and maps by their sorted
// entries.
func sortCompare(a, b any, depth int) int {
	if c := cmp.Compare(sortKindRank(a), sortKindRank(b)); c != 0 || depth >= MaxValueDepth {
		return c
	}
	switch x := a.(type) {
	case bool:
		return sortCmpBool(x, b.(bool))
	case int, float64:
		if c, ok := compareNumberValues(x, b); ok {
			return c
		}
		return -sortCmpBool(isNaNValue(x), isNaNValue(b))
	case Atom:
		return strings.Compare(string(x), string(b.(Atom)))
	case string:
		return strings.Compare(x, b.(string))
	case []any:
		return sortCompareLists(x, b.([]any), depth)
	case map[string]any:
		return sortCompareMaps(x, b.(map[string]any), depth)
	}
	return 0
}

func sortKindRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int, float64:
		return 2
	case Atom:
		return 3
	case string:
		return 4
	case []any:
		return 5
	case map[string]any:
		return 6
	}
	return 7
}

func sortCmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func isNaNValue(v any) bool {
	f, ok := v.(float64)
	return ok && math.IsNaN(f)
}

func sortCompareLists(a, b []any, depth int) int {
	for i := range min(len(a), len(b)) {
		if c := sortCompare(a[i], b[i], depth+1); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func sortCompareMaps(a, b map[string]any, depth int) int {
	ka, kb := sortedMapKeys(a), sortedMapKeys(b)
	for i := range min(len(ka), len(kb)) {
		if c := strings.Compare(ka[i], kb[i]); c != 0 {
			return c
		}
		if c := sortCompare(a[ka[i]], b[kb[i]], depth+1); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(ka), len(kb))
}

// stringBuiltin makes a one-argument string function.
func stringBuiltin(f func(string) string) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		s, err := argAsString(args[0], "a string")
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

// capitalizeString upper-cases (title-cases) the first rune and lower-cases the
// rest, as Elixir's String.capitalize does.
func capitalizeString(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + strings.ToLower(s[size:])
}

// builtinReplace replaces every occurrence of a substring.
func builtinReplace(args []any) (any, error) {
	strs, err := builtinStringArgs(args, "a string", "a string to replace", "a string replacement")
	if err != nil {
		return nil, err
	}
	return strings.ReplaceAll(strs[0], strs[1], strs[2]), nil
}

// regexReplace replaces every match of a Go regular expression; the
// replacement may refer to groups as $1 or ${name}.
func (b *builtinSet) regexReplace(args []any) (any, error) {
	strs, err := builtinStringArgs(args, "a string", "a string pattern", "a string replacement")
	if err != nil {
		return nil, err
	}
	re, err := b.regexps.get(strs[1])
	if err != nil {
		return nil, err
	}
	return re.ReplaceAllString(strs[0], strs[2]), nil
}

// builtinStringArgs checks that every argument is a string; what describes each.
func builtinStringArgs(args []any, what ...string) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		s, err := argAsString(a, what[i])
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// groupNameEncoding is RFC 4648 base32, lower-cased, without padding.
var groupNameEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// builtinGroupName derives a group id from a set of values (the arguments,
// or the items of a single list argument): their formatted forms, sorted
// and joined with NUL, hashed with SHA-256; the first 5 bytes of the hash
// in base32 make the 8 characters after "~".
func builtinGroupName(args []any) (any, error) {
	items := args
	if len(args) == 1 && args[0] != nil {
		if l, err := argAsList(args[0]); err == nil {
			items = l
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("want at least 1 id, got an empty list")
	}
	parts := make([]string, len(items))
	for i, e := range items {
		parts[i] = Format(e)
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "~" + groupNameEncoding.EncodeToString(sum[:5]), nil
}

// builtinRegexpCache keeps up to max compiled regular expressions by pattern. It
// is safe for concurrent use; when full it forgets an arbitrary entry.
type builtinRegexpCache struct {
	mu  sync.Mutex
	max int
	m   map[string]*regexp.Regexp
}

// get returns the compiled pattern, compiling it on a miss. An invalid
// pattern is an error naming it and is not cached.
func (c *builtinRegexpCache) get(pattern string) (*regexp.Regexp, error) {
	c.mu.Lock()
	re, ok := c.m[pattern]
	c.mu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid pattern %q: %w", pattern, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*regexp.Regexp)
	}
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[pattern] = re
	return re, nil
}

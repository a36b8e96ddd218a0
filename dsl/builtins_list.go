package dsl

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// listSpecs are the built-in functions on lists and maps.
func listSpecs() map[string]fnSpec {
	lst, mp, any1 := []kinds{kList | kNil}, []kinds{kMap | kNil}, []kinds{kAny}
	return map[string]fnSpec{
		"length":    {1, 1, []kinds{kString | kList | kMap | kNil}, builtinLength},
		"first":     {1, 1, []kinds{kString | kList | kNil}, func(_ *turnRT, a []any) (any, error) { return builtinEnd(a[0], true) }},
		"last":      {1, 1, []kinds{kString | kList | kNil}, func(_ *turnRT, a []any) (any, error) { return builtinEnd(a[0], false) }},
		"join":      {1, 3, []kinds{kList | kNil, kString, kString}, builtinJoin},
		"keys":      {1, 1, mp, builtinKeys},
		"values":    {1, 1, mp, builtinValues},
		"sort":      {1, 2, []kinds{kList | kNil, kString | kMap}, builtinSort},
		"uniq":      {1, 1, lst, builtinUniq},
		"concat":    {1, -1, nil, builtinConcat},
		"flatten":   {1, 1, lst, builtinFlatten},
		"reverse":   {1, 1, lst, builtinReverse},
		"take":      {2, 2, []kinds{kList | kNil, kNumber}, builtinTake},
		"toPairs":   {1, 1, mp, builtinToPairs},
		"fromPairs": {1, 1, lst, builtinFromPairs},
		"toJSON":    {1, 1, any1, builtinToJSON},
		"string":    {1, 1, any1, builtinString},
	}
}

// builtinLength counts the runes of a string or the items of a list or map;
// nil has length 0.
func builtinLength(_ *turnRT, args []any) (any, error) {
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
// "" by default. The length of the result is counted before it is built.
func builtinJoin(rt *turnRT, args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	sep := ""
	if len(args) >= 2 {
		if sep, err = argAsString(args[1], "a string separator"); err != nil {
			return nil, err
		}
	}
	last := sep
	if len(args) == 3 {
		if last, err = argAsString(args[2], "a string last separator"); err != nil {
			return nil, err
		}
	}
	return joinFormatted(rt, l, sep, last)
}

// joinFormatted joins the formatted items, lastSep before the last one.
func joinFormatted(rt *turnRT, l []any, sep, lastSep string) (string, error) {
	b := rt.budget()
	size := satMul(len(sep), len(l))
	for _, e := range l {
		size = satAdd(size, formatCost(e, b.left()))
		if size > b.left() {
			break
		}
	}
	if err := b.take(satAdd(size, len(lastSep))); err != nil {
		return "", err
	}
	var out strings.Builder
	out.Grow(size)
	for i, e := range l {
		switch {
		case i == len(l)-1 && i > 0:
			out.WriteString(lastSep)
		case i > 0:
			out.WriteString(sep)
		}
		out.WriteString(Format(e))
	}
	return out.String(), nil
}

// builtinKeys returns the keys of a map, sorted.
func builtinKeys(rt *turnRT, args []any) (any, error) {
	m, err := argAsMap(args[0])
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(m), 2*listSlotBytes)); err != nil {
		return nil, err
	}
	return stringsToList(sortedMapKeys(m)), nil
}

// builtinValues returns the values of a map in the order of their sorted
// keys.
func builtinValues(rt *turnRT, args []any) (any, error) {
	m, err := argAsMap(args[0])
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(m), 2*listSlotBytes)); err != nil {
		return nil, err
	}
	keys := sortedMapKeys(m)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out, nil
}

// listCopy returns the list argument after taking the memory of a copy of
// it from the budget.
func listCopy(rt *turnRT, v any) ([]any, error) {
	l, err := argAsList(v)
	if err != nil {
		return nil, err
	}
	return l, rt.budget().take(satMul(len(l), listSlotBytes))
}

// builtinSort returns a sorted copy of a list, in the order of
// sortCompare.
func builtinSort(rt *turnRT, args []any) (any, error) {
	l, err := listCopy(rt, args[0])
	if err != nil {
		return nil, err
	}
	if len(args) == 2 {
		return builtinSortBy(l, args[1])
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
func builtinUniq(rt *turnRT, args []any) (any, error) {
	l, err := listCopy(rt, args[0])
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

// builtinConcat joins lists into one.
func builtinConcat(rt *turnRT, args []any) (any, error) {
	lists := make([][]any, len(args))
	n := 0
	for i, a := range args {
		l, err := argAsList(a)
		if err != nil {
			return nil, err
		}
		lists[i], n = l, satAdd(n, len(l))
	}
	if err := rt.budget().take(satMul(n, listSlotBytes)); err != nil {
		return nil, err
	}
	out := make([]any, 0, n)
	for _, l := range lists {
		out = append(out, l...)
	}
	return out, nil
}

// builtinFlatten lifts the items of nested lists into one list. The items
// are counted before the list is made.
func builtinFlatten(rt *turnRT, args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	n := flatCount(l, 0)
	if err := rt.budget().take(satMul(n, listSlotBytes)); err != nil {
		return nil, err
	}
	out := make([]any, 0, n)
	return flattenInto(out, l, 0), nil
}

func flatCount(l []any, depth int) int {
	n := 0
	for _, e := range l {
		if inner, ok := e.([]any); ok && depth < MaxValueDepth {
			n = satAdd(n, flatCount(inner, depth+1))
			continue
		}
		n = satAdd(n, 1)
	}
	return n
}

func flattenInto(out, l []any, depth int) []any {
	for _, e := range l {
		if inner, ok := e.([]any); ok && depth < MaxValueDepth {
			out = flattenInto(out, inner, depth+1)
			continue
		}
		out = append(out, e)
	}
	return out
}

// builtinReverse returns the items in reverse order.
func builtinReverse(rt *turnRT, args []any) (any, error) {
	l, err := listCopy(rt, args[0])
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, e := range l {
		out[len(l)-1-i] = e
	}
	return out, nil
}

// builtinTake returns the first n items.
func builtinTake(_ *turnRT, args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	n, err := argAsInt(args[1], "a whole number of items")
	if err != nil {
		return nil, err
	}
	n = max(0, min(n, len(l)))
	if l == nil {
		return []any{}, nil
	}
	return l[:n:n], nil
}

// builtinToPairs returns [[key, value], ...] in the order of the keys.
func builtinToPairs(rt *turnRT, args []any) (any, error) {
	m, err := argAsMap(args[0])
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(m), 5*listSlotBytes)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(m))
	for _, k := range sortedMapKeys(m) {
		out = append(out, []any{k, m[k]})
	}
	return out, nil
}

// builtinFromPairs makes a map of [[key, value], ...].
func builtinFromPairs(rt *turnRT, args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(l), mapSlotBytes)); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(l))
	for _, e := range l {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("want a list of [key, value] pairs, got an item that is a %s", TypeName(e))
		}
		k, ok := pair[0].(string)
		if !ok {
			return nil, fmt.Errorf("want string keys, got a %s", TypeName(pair[0]))
		}
		out[k] = pair[1]
	}
	return out, nil
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

package dsl

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"sync"

	"github.com/gertd/go-pluralize"
)

// moreSpecs are Bubblescript's list and string functions.
func moreSpecs() map[string]fnSpec {
	lst, str := []kinds{kList | kNil}, []kinds{kString}
	return map[string]fnSpec{
		"item":               {2, 2, []kinds{kList | kNil, kNumber}, builtinItem},
		"pluck":              {2, 2, []kinds{kList | kNil, kString}, builtinPluck},
		"shuffle":            {1, 1, lst, hostFunc((*Machine).shuffle)},
		"pluralize":          {1, 2, []kinds{kString, kNumber}, builtinPluralize},
		"singularize":        {1, 1, str, builtinSingularize},
		"html_entity_encode": {1, 1, str, builtinHTMLEncode},
		"html_entity_decode": {1, 1, str, builtinHTMLDecode},
	}
}

// builtinItem is item(list, i): the item at 0-based index i (negative
// counts from the end), nil when there is none.
func builtinItem(_ *turnRT, args []any) (any, error) {
	l, err := argAsList(args[0])
	if err != nil {
		return nil, err
	}
	i, err := argAsInt(args[1], "a whole number index")
	if err != nil {
		return nil, err
	}
	if i < 0 {
		i += len(l)
	}
	if i < 0 || i >= len(l) {
		return nil, nil
	}
	return l[i], nil
}

// builtinPluck is pluck(list, key): the key's value of each map of the
// list (nil for items that are not maps or lack it).
func builtinPluck(rt *turnRT, args []any) (any, error) {
	l, err := listCopy(rt, args[0])
	if err != nil {
		return nil, err
	}
	key, err := argAsString(args[1], "a string key")
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, e := range l {
		if mp, ok := e.(map[string]any); ok {
			out[i] = mp[key]
		}
	}
	return out, nil
}

// shuffle returns the items in a random order (Fisher-Yates, with the
// host's randomness).
func (m *Machine) shuffle(args []any) (any, error) {
	l, err := listCopy(&m.rt, args[0])
	if err != nil {
		return nil, err
	}
	out := slices.Clone(l)
	if out == nil {
		out = []any{}
	}
	for i := len(out) - 1; i > 0; i-- {
		j := int(m.rand() % uint64(i+1))
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// pluralizer is the English inflector; it is immutable once made.
var pluralizer = sync.OnceValue(pluralize.NewClient)

// builtinPluralize is pluralize(word) (the plural) or pluralize(word, n)
// (the singular when n is 1, else the plural).
func builtinPluralize(rt *turnRT, args []any) (any, error) {
	w, err := inflectArg(rt, args[0])
	if err != nil {
		return nil, err
	}
	if len(args) == 2 {
		n, err := argAsInt(args[1], "a whole number")
		if err != nil {
			return nil, err
		}
		if n == 1 || n == -1 {
			return pluralizer().Singular(w), nil
		}
	}
	return pluralizer().Plural(w), nil
}

func builtinSingularize(rt *turnRT, args []any) (any, error) {
	w, err := inflectArg(rt, args[0])
	if err != nil {
		return nil, err
	}
	return pluralizer().Singular(w), nil
}

// inflectArg is a word to inflect: at most 100 bytes (inflections work on
// words; the rules are regular expressions).
func inflectArg(rt *turnRT, v any) (string, error) {
	w, err := argAsString(v, "a word")
	if err != nil {
		return "", err
	}
	if len(w) > 100 {
		return "", fmt.Errorf("want a word, got %d bytes of text", len(w))
	}
	return w, rt.budget().take(2 * len(w))
}

func builtinHTMLEncode(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(s), 6)); err != nil { // &#34; is the longest
		return nil, err
	}
	return html.EscapeString(s), nil
}

func builtinHTMLDecode(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(s), 2)); err != nil {
		return nil, err
	}
	return html.UnescapeString(s), nil
}

// builtinSortBy is sort(list, field) or sort(list, field: "age",
// direction: "desc"): maps ordered by a field, in the order of sortCompare.
func builtinSortBy(l []any, opt any) ([]any, error) {
	field, desc, err := sortOptions(opt)
	if err != nil {
		return nil, err
	}
	key := func(v any) any {
		if mp, ok := v.(map[string]any); ok && field != "" {
			return mp[field]
		}
		return v
	}
	out := slices.Clone(l)
	if out == nil {
		out = []any{}
	}
	slices.SortStableFunc(out, func(a, b any) int {
		c := sortCompare(key(a), key(b), 0)
		if desc {
			return -c
		}
		return c
	})
	return out, nil
}

// sortOptions reads sort's second argument: a field name, or field: (or
// by:) and direction: options.
func sortOptions(opt any) (field string, desc bool, err error) {
	switch o := opt.(type) {
	case string:
		return o, false, nil
	case map[string]any:
		for _, k := range sortedMapKeys(o) {
			v := o[k]
			switch k {
			case "field", "by":
				s, ok := v.(string)
				if !ok {
					return "", false, builtinWantError("field: a string", v)
				}
				field = s
			case "direction":
				d := strings.ToLower(Format(v))
				if d != "asc" && d != "desc" {
					return "", false, fmt.Errorf("want direction: :asc or :desc, got %s", Format(v))
				}
				desc = d == "desc"
			default:
				return "", false, fmt.Errorf("unknown option %s: (want field: and direction:)", k)
			}
		}
		return field, desc, nil
	}
	return "", false, builtinWantError("a field name or field:/direction: options", opt)
}

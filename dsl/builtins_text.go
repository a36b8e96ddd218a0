package dsl

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// textSpecs are the built-in functions on strings.
func (b *builtinSet) textSpecs() map[string]fnSpec {
	str := []kinds{kString}
	lower, upper := stringBuiltin(strings.ToLower), stringBuiltin(strings.ToUpper)
	return map[string]fnSpec{
		"split":         {1, 2, []kinds{kString, kString}, builtinSplit},
		"splitAfter":    {2, 2, []kinds{kString, kString}, builtinSplitAfter},
		"downcase":      {1, 1, str, lower},
		"upcase":        {1, 1, str, upper},
		"lower":         {1, 1, str, lower},
		"upper":         {1, 1, str, upper},
		"capitalize":    {1, 1, str, stringBuiltin(capitalizeString)},
		"replace":       {3, 3, []kinds{kString, kString, kString}, builtinReplace},
		"regex_replace": {3, 3, []kinds{kString, kString, kString}, b.regexReplace},
		"repeat":        {2, 2, []kinds{kString, kNumber}, builtinRepeat},
		"fromJSON":      {1, 1, str, builtinFromJSON},
		"toBase64":      {1, 1, str, builtinToBase64},
		"fromBase64":    {1, 1, str, builtinFromBase64},
		"group_name":    {1, -1, nil, builtinGroupName},
	}
}

// builtinSplit splits a string at a separator, or at runs of white space
// when there is none. The pieces are counted before the list is made.
func builtinSplit(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	if len(args) == 1 {
		if err := takePieces(rt, fieldCount(s)); err != nil {
			return nil, err
		}
		return stringsToList(strings.Fields(s)), nil
	}
	sep, err := argAsString(args[1], "a string separator")
	if err != nil {
		return nil, err
	}
	if err := takePieces(rt, pieceCount(s, sep)); err != nil {
		return nil, err
	}
	return stringsToList(strings.Split(s, sep)), nil
}

// builtinSplitAfter splits a string after each separator.
func builtinSplitAfter(rt *turnRT, args []any) (any, error) {
	strs, err := builtinStringArgs(args, "a string", "a string separator")
	if err != nil {
		return nil, err
	}
	if err := takePieces(rt, pieceCount(strs[0], strs[1])); err != nil {
		return nil, err
	}
	return stringsToList(strings.SplitAfter(strs[0], strs[1])), nil
}

// takePieces takes the memory of a list of n substrings.
func takePieces(rt *turnRT, n int) error {
	return rt.budget().take(satMul(n, 3*listSlotBytes))
}

// pieceCount is how many pieces strings.Split(s, sep) makes.
func pieceCount(s, sep string) int {
	if sep == "" {
		return utf8.RuneCountInString(s)
	}
	return strings.Count(s, sep) + 1
}

// fieldCount is how many pieces strings.Fields(s) makes.
func fieldCount(s string) int {
	n, in := 0, false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if !space && !in {
			n++
		}
		in = !space
	}
	return n
}

// stringBuiltin makes a one-argument string function whose result is
// about as long as its argument.
func stringBuiltin(f func(string) string) func(rt *turnRT, args []any) (any, error) {
	return func(rt *turnRT, args []any) (any, error) {
		s, err := argAsString(args[0], "a string")
		if err != nil {
			return nil, err
		}
		if err := rt.budget().take(satMul(len(s), 2)); err != nil {
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

// builtinReplace replaces every occurrence of a substring. The length of the
// result is counted before it is built.
func builtinReplace(rt *turnRT, args []any) (any, error) {
	strs, err := builtinStringArgs(args, "a string", "a string to replace", "a string replacement")
	if err != nil {
		return nil, err
	}
	s, old, repl := strs[0], strs[1], strs[2]
	n := strings.Count(s, old) // runes + 1 when old is ""
	if grow := len(repl) - len(old); grow > 0 {
		if err := rt.budget().take(satAdd(len(s), satMul(n, grow))); err != nil {
			return nil, err
		}
	} else if err := rt.budget().take(len(s)); err != nil {
		return nil, err
	}
	return strings.ReplaceAll(s, old, repl), nil
}

// builtinRepeat repeats a string n times.
func builtinRepeat(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	n, err := argAsInt(args[1], "a whole number of times")
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("want a number of times of 0 or more, got %d", n)
	}
	if err := rt.budget().take(satMul(len(s), n)); err != nil {
		return nil, err
	}
	return strings.Repeat(s, n), nil
}

// regexReplace replaces every match of a Go regular expression; the
// replacement may refer to groups as $1 or ${name}. The result is at most
// the text, plus the replacement once per match, plus the text once per
// group reference in the replacement (matches do not overlap); when that
// bound is over the budget the matches are counted first.
func (b *builtinSet) regexReplace(rt *turnRT, args []any) (any, error) {
	strs, err := builtinStringArgs(args, "a string", "a string pattern", "a string replacement")
	if err != nil {
		return nil, err
	}
	s, repl := strs[0], strs[2]
	re, err := b.regexps.get(strs[1])
	if err != nil {
		return nil, err
	}
	bud := rt.budget()
	refs := strings.Count(repl, "$")
	bound := func(matches int) int {
		return satAdd(satAdd(len(s), satMul(matches, len(repl))), satMul(refs, len(s)))
	}
	need := bound(len(s) + 1) // at most one match per position
	if need > bud.left() {
		if err := bud.take(len(s)); err != nil { // the counting pass's copy
			return nil, err
		}
		n := 0
		re.ReplaceAllStringFunc(s, func(string) string { n++; return "" })
		need = bound(n)
	}
	if err := bud.take(need); err != nil {
		return nil, err
	}
	return re.ReplaceAllString(s, repl), nil
}

// builtinFromJSON parses JSON text. Before it does, it takes the text's
// length plus 48 bytes for each item it can hold (a [, { , or :).
func builtinFromJSON(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	items := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{', ',', ':':
			items++
		}
	}
	if err := rt.budget().take(satAdd(len(s), satMul(items, mapSlotBytes))); err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	return v, nil
}

// builtinToJSON writes a value as indented JSON, as expr's toJSON does.
func builtinToJSON(rt *turnRT, args []any) (any, error) {
	bud := rt.budget()
	if err := bud.take(satMul(valueCost(args[0], indentStyle, bud.left()), 2)); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(args[0], "", "  ")
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// builtinString prints a value as Go's %v does, as expr's string does.
func builtinString(rt *turnRT, args []any) (any, error) {
	if s, ok := args[0].(string); ok {
		return s, nil
	}
	bud := rt.budget()
	if err := bud.take(valueCost(args[0], sprintStyle, bud.left())); err != nil {
		return nil, err
	}
	return fmt.Sprintf("%v", args[0]), nil
}

func builtinToBase64(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(base64.StdEncoding.EncodedLen(len(s))); err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func builtinFromBase64(rt *turnRT, args []any) (any, error) {
	s, err := argAsString(args[0], "a string")
	if err != nil {
		return nil, err
	}
	if err := rt.budget().take(satMul(len(s), 2)); err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	return string(b), nil
}

// groupNameEncoding is RFC 4648 base32, lower-cased, without padding.
var groupNameEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// builtinGroupName derives a group id from a set of values (the arguments,
// or the items of a single list argument): their formatted forms, sorted
// and joined with NUL, hashed with SHA-256; the first 5 bytes of the hash
// in base32 make the 8 characters after "~".
func builtinGroupName(rt *turnRT, args []any) (any, error) {
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
		s, err := formatIn(rt.budget(), e)
		if err != nil {
			return nil, err
		}
		parts[i] = s
	}
	slices.Sort(parts)
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return "~" + groupNameEncoding.EncodeToString(h.Sum(nil)[:5]), nil
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

package dsl

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"unicode/utf8"
)

// allocBudget counts the bytes that functions and operators allocate while
// one expression is evaluated. Every function that builds a string, list
// or map asks it for the bytes first, so a refusal happens before the
// allocation: `repeat(s, 1000000)` fails at once instead of taking the
// process down.
type allocBudget struct {
	used, limit int
}

// defaultAllocBytes is Limits.MaxAllocBytes when unset.
const defaultAllocBytes = 16 << 20

// reset starts a new expression with limit bytes (the default when <= 0).
func (b *allocBudget) reset(limit int) {
	if limit <= 0 {
		limit = defaultAllocBytes
	}
	b.used, b.limit = 0, limit
}

// take reserves n bytes, or fails without reserving anything.
func (b *allocBudget) take(n int) error {
	if b.limit <= 0 {
		b.reset(0)
	}
	if n < 0 || n > b.limit-b.used {
		return &budgetError{need: n, limit: b.limit}
	}
	b.used += n
	return nil
}

// left is what can still be taken.
func (b *allocBudget) left() int {
	if b.limit <= 0 {
		b.reset(0)
	}
	return b.limit - b.used
}

// budgetError is a refused allocation. n < 0 stands for a size too large
// to count.
type budgetError struct{ need, limit int }

func (e *budgetError) Error() string {
	need := "more than 9223372036854775806"
	if e.need >= 0 && e.need < math.MaxInt {
		need = fmt.Sprint(e.need)
	}
	return fmt.Sprintf("memory budget exceeded: it needs at least %s more bytes, over the %d one expression may allocate", need, e.limit)
}

// satMul multiplies non-negative sizes, saturating at math.MaxInt.
func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

// satAdd adds non-negative sizes, saturating at math.MaxInt.
func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// Memory a list or map costs per item, beyond the items' own contents.
const (
	listSlotBytes = 16 // one interface value
	mapSlotBytes  = 48 // a key, a value and the table's share
)

// formatCost is an upper bound of len(Format(v)) that stops counting once
// it passes limit. Strings are counted exactly, with their JSON escapes
// when they sit inside a list or map.
func formatCost(v any, limit int) int {
	if s, ok := v.(string); ok {
		return len(s)
	}
	return valueCost(v, compactStyle, limit)
}

// costStyle says how long the parts of a printed value are.
type costStyle struct {
	str       func(s string) int // a string (and a map key)
	container int                // the brackets of a list or map
	item      int                // the separator before an item
	indent    int                // per item and per level of nesting
	key       int                // after a map key
}

var (
	compactStyle = costStyle{str: jsonStringLen, container: 2, item: 1, key: 1}                        // Format
	indentStyle  = costStyle{str: escapedLen, container: 2, item: 2, indent: 2, key: 2}                // json.MarshalIndent
	sprintStyle  = costStyle{str: func(s string) int { return len(s) }, container: 5, item: 1, key: 1} // fmt %v
)

// escapedLen bounds a JSON string with every byte escaped (\u003c).
func escapedLen(s string) int { return satAdd(satMul(len(s), 6), 2) }

// valueCost is an upper bound of the length of v printed in style, which
// stops counting once it passes limit.
func valueCost(v any, style costStyle, limit int) int {
	c := costCounter{limit: limit, style: style}
	c.value(v, 0)
	return c.n
}

// costCounter adds up the length of a printed value.
type costCounter struct {
	n, limit int
	style    costStyle
}

func (c *costCounter) add(n int) { c.n = satAdd(c.n, n) }

func (c *costCounter) value(v any, depth int) {
	if c.n > c.limit {
		return
	}
	st := &c.style
	switch x := v.(type) {
	case string:
		c.add(st.str(x))
	case Atom:
		c.add(st.str(string(x)))
	case []any:
		c.add(st.container + st.indent*depth)
		if depth >= MaxValueDepth {
			return
		}
		for _, e := range x {
			c.add(st.item + st.indent*(depth+1))
			c.value(e, depth+1)
		}
	case map[string]any:
		c.add(st.container + st.indent*depth)
		if depth >= MaxValueDepth {
			return
		}
		for k, e := range x {
			c.add(st.item + st.indent*(depth+1) + st.str(k) + st.key)
			c.value(e, depth+1)
		}
	case nil, bool, int, float64:
		c.add(24) // the longest number, true, false, null and <nil> fit
	case []int: // a range
		c.add(st.container + satMul(len(x), 24+st.item+st.indent*(depth+1)))
	default:
		c.other(reflect.ValueOf(v), depth)
	}
}

// other counts a value that is not in canonical form, without copying it.
func (c *costCounter) other(rv reflect.Value, depth int) {
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		c.add(c.style.container)
		for i := 0; i < rv.Len() && c.n <= c.limit && depth < MaxValueDepth; i++ {
			c.add(c.style.item + c.style.indent*(depth+1))
			c.value(rv.Index(i).Interface(), depth+1)
		}
	case reflect.Map:
		c.add(c.style.container)
		for it := rv.MapRange(); it.Next() && c.n <= c.limit && depth < MaxValueDepth; {
			c.add(c.style.item + c.style.indent*(depth+1) + c.style.key)
			c.value(it.Key().Interface(), depth+1)
			c.value(it.Value().Interface(), depth+1)
		}
	case reflect.String:
		c.add(c.style.str(rv.String()))
	default:
		c.add(64)
	}
}

// jsonStringLen is the length of writeJSONString's output for s.
func jsonStringLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20:
			n += 6
		default:
			n += utf8.RuneLen(r)
		}
	}
	return n
}

// formatIn formats v after taking its length from the budget.
func formatIn(b *allocBudget, v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil // no copy
	}
	if err := b.take(formatCost(v, b.left())); err != nil {
		return "", err
	}
	return Format(v), nil
}

// cutText cuts s to at most max bytes on a rune boundary and says so at
// the end: "… [cut: 123456 bytes in all]".
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return truncate(s, max) + fmt.Sprintf("… [cut: %d bytes in all]", len(s))
}

// boundedText formats v for a log line: at most max bytes of it, without
// formatting more than that of a large list or map.
func boundedText(v any, max int) string {
	if s, ok := v.(string); ok {
		return cutText(s, max)
	}
	if n := formatCost(v, max); n <= max {
		return Format(v)
	}
	var b strings.Builder
	b.Grow(max)
	w := limitedWriter{b: &b, max: max}
	w.value(v, 0)
	return truncate(b.String(), max) + "… [cut]"
}

// limitedWriter writes a value as Format does until max bytes are written.
type limitedWriter struct {
	b   *strings.Builder
	max int
}

func (w *limitedWriter) full() bool { return w.b.Len() > w.max }

func (w *limitedWriter) value(v any, depth int) {
	if w.full() {
		return
	}
	switch x := v.(type) {
	case []any:
		w.b.WriteByte('[')
		for i, e := range x {
			if w.full() || depth >= MaxValueDepth {
				return
			}
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.value(e, depth+1)
		}
		w.b.WriteByte(']')
	case map[string]any:
		w.b.WriteByte('{')
		for i, k := range sortedMapKeys(x) {
			if w.full() || depth >= MaxValueDepth {
				return
			}
			if i > 0 {
				w.b.WriteByte(',')
			}
			writeJSONString(w.b, truncate(k, w.max))
			w.b.WriteByte(':')
			w.value(x[k], depth+1)
		}
		w.b.WriteByte('}')
	case string:
		writeJSONString(w.b, truncate(x, w.max))
	default:
		if formatCost(v, w.max) <= w.max {
			writeValueJSON(w.b, v, depth)
		}
	}
}

package dsl

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// callBuiltin calls a pure built-in function by its script name.
func callBuiltin(tb testing.TB, name string, args ...any) (any, error) {
	tb.Helper()
	fn, ok := pureBuiltins()[name]
	if !ok {
		tb.Fatalf("no built-in function %q", name)
	}
	return fn(args...)
}

func TestBuiltinNames(t *testing.T) {
	var got []string
	for name := range pureBuiltins() {
		got = append(got, name)
	}
	slices.Sort(got)
	want := []string{"capitalize", "chat_link", "concat", "date_add", "date_diff", "date_format", "downcase", "first",
		"flatten", "fromBase64", "fromJSON", "fromPairs", "group_name", "html_entity_decode", "html_entity_encode",
		"intent", "item", "join", "keys", "last", "length", "lower", "now", "pluck", "pluralize", "random",
		"regex_replace", "repeat", "replace", "reverse", "shuffle", "singularize", "sort", "spawn_group", "split",
		"splitAfter", "string", "take", "toBase64", "toJSON", "toPairs", "today", "uniq", "upcase", "upper", "values",
		"weekday"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestBuiltins(t *testing.T) {
	tests := []struct {
		name    string
		fn      string
		args    []any
		want    any
		wantErr string
	}{
		{"length of string counts runes", "length", []any{"héllo"}, 5, ""},
		{"length of list", "length", []any{[]any{1, 2}}, 2, ""},
		{"length of map", "length", []any{map[string]any{"a": 1}}, 1, ""},
		{"length of nil", "length", []any{nil}, 0, ""},
		{"length of Go slice", "length", []any{[]string{"a"}}, 1, ""},
		{"length of number", "length", []any{3}, nil, "length: want a string, list or map, got number"},
		{"length of atom", "length", []any{Atom("a")}, nil, "length: want a string, list or map, got atom"},
		{"length without arguments", "length", nil, nil, "length: want 1 argument, got 0"},

		{"first of list", "first", []any{[]any{1, 2}}, 1, ""},
		{"first of empty list", "first", []any{[]any{}}, nil, ""},
		{"first of nil", "first", []any{nil}, nil, ""},
		{"first of string", "first", []any{"élan"}, "é", ""},
		{"first of empty string", "first", []any{""}, nil, ""},
		{"first of map", "first", []any{map[string]any{}}, nil, "first: want a list or string, got map"},
		{"last of list", "last", []any{[]any{1, 2}}, 2, ""},
		{"last of empty list", "last", []any{[]any{}}, nil, ""},
		{"last of string", "last", []any{"café"}, "é", ""},
		{"last of number", "last", []any{1.5}, nil, "last: want a list or string, got number"},
		{"last with two arguments", "last", []any{nil, nil}, nil, "last: want 1 argument, got 2"},

		{"join default separator", "join", []any{[]any{"a", 1, 2.0, Atom("b"), nil}}, "a12b", ""},
		{"join with separator", "join", []any{[]any{"a", []any{1}}, ", "}, `a, [1]`, ""},
		{"join empty", "join", []any{[]any{}, "-"}, "", ""},
		{"join nil", "join", []any{nil}, "", ""},
		{"join Go slice", "join", []any{[]string{"x", "y"}, "+"}, "x+y", ""},
		{"join string", "join", []any{"abc"}, nil, "join: want a list, got string"},
		{"join number separator", "join", []any{[]any{}, 1}, nil, "join: want a string separator, got number"},
		{"join four arguments", "join", []any{nil, "", "", ""}, nil, "join: want 1 to 3 arguments, got 4"},
		{"join with last separator", "join", []any{[]any{"a", "b", "c"}, ", ", " and "}, "a, b and c", ""},
		{"join two with last separator", "join", []any{[]any{"a", "b"}, ", ", " and "}, "a and b", ""},
		{"join one with last separator", "join", []any{[]any{"a"}, ", ", " and "}, "a", ""},

		{"item", "item", []any{[]any{"a", "b"}, 1}, "b", ""},
		{"item past the end", "item", []any{[]any{"a", "b"}, 2}, nil, ""},
		{"item from the end", "item", []any{[]any{"a", "b"}, -1}, "b", ""},
		{"item before the start", "item", []any{[]any{"a", "b"}, -3}, nil, ""},
		{"item of nil", "item", []any{nil, 0}, nil, ""},
		{"item fraction", "item", []any{[]any{"a"}, 0.5}, nil, "item: want a whole number index, got number"},
		{"pluck", "pluck", []any{[]any{map[string]any{"n": 1}, "x", map[string]any{}}, "n"}, []any{1, nil, nil}, ""},
		{"pluck number key", "pluck", []any{[]any{}, 1}, nil, "pluck: want a string key, got number"},
		{"pluralize", "pluralize", []any{"city"}, "cities", ""},
		{"pluralize irregular", "pluralize", []any{"person"}, "people", ""},
		{"pluralize one", "pluralize", []any{"apples", 1}, "apple", ""},
		{"pluralize count", "pluralize", []any{"apple", 3}, "apples", ""},
		{"pluralize keeps case", "pluralize", []any{"Box"}, "Boxes", ""},
		{"singularize", "singularize", []any{"mice"}, "mouse", ""},
		{"singularize long text", "singularize", []any{strings.Repeat("a", 101)}, nil, "singularize: want a word, got 101 bytes of text"},
		{"html_entity_encode", "html_entity_encode", []any{`<a href="x">Tom & Jerry</a>`}, "&lt;a href=&#34;x&#34;&gt;Tom &amp; Jerry&lt;/a&gt;", ""},
		{"html_entity_decode", "html_entity_decode", []any{"caf&eacute; &amp; &#39;bar&#39; &lt;3"}, "café & 'bar' <3", ""},
		{"sort by field", "sort", []any{[]any{map[string]any{"n": 2}, map[string]any{"n": 1}}, "n"}, []any{map[string]any{"n": 1}, map[string]any{"n": 2}}, ""},
		{"sort by field descending", "sort", []any{[]any{map[string]any{"n": 1}, map[string]any{"n": 2}, map[string]any{}},
			map[string]any{"field": "n", "direction": Atom("desc")}}, []any{map[string]any{"n": 2}, map[string]any{"n": 1}, map[string]any{}}, ""},
		{"sort descending", "sort", []any{[]any{1, 3, 2}, map[string]any{"direction": "desc"}}, []any{3, 2, 1}, ""},
		{"sort bad direction", "sort", []any{[]any{}, map[string]any{"direction": "up"}}, nil, "sort: want direction: :asc or :desc, got up"},
		{"sort bad option", "sort", []any{[]any{}, map[string]any{"order": "up"}}, nil, "sort: unknown option order: (want field: and direction:)"},
		{"date_format", "date_format", []any{"2026-12-24T18:05:09Z", "%A %e %B %Y, %I:%M %p (%j) %%"}, "Thursday 24 December 2026, 06:05 PM (358) %", ""},
		{"date_format of Unix seconds", "date_format", []any{1767268800, "%Y-%m-%d %H:%M:%S %Z"}, "2026-01-01 12:00:00 UTC", ""},
		{"date_format bad directive", "date_format", []any{"2026-12-24", "%Q"}, nil, "date_format: unknown directive %Q"},
		{"date_format bad date", "date_format", []any{"24/12/2026", "%Y"}, nil, `date_format: "24/12/2026" is not an ISO 8601 date (want e.g. "2026-12-24" or "2026-12-24T18:30:00Z")`},
		{"date_add days", "date_add", []any{"2026-12-24", "8d"}, "2027-01-01", ""},
		{"date_add hours to a day", "date_add", []any{"2026-12-24", "2h"}, "2026-12-24T02:00:00Z", ""},
		{"date_add negative", "date_add", []any{"2026-12-24T10:00:00+01:00", "-90m"}, "2026-12-24T08:30:00+01:00", ""},
		{"date_add seconds", "date_add", []any{"2026-12-24T10:00:00", 30}, "2026-12-24T10:00:30Z", ""},
		{"date_diff days", "date_diff", []any{"2026-12-24", "2027-01-01", "days"}, 8, ""},
		{"date_diff seconds", "date_diff", []any{"2026-12-24T10:00:00Z", "2026-12-24T09:59:30Z"}, -30, ""},
		{"date_diff fraction", "date_diff", []any{"2026-12-24", "2026-12-24T12:00:00Z", Atom("days")}, 0.5, ""},
		{"date_diff bad unit", "date_diff", []any{"2026-12-24", "2026-12-25", "months"}, nil, `date_diff: unknown unit "months" (want seconds, minutes, hours, days or weeks)`},
		{"weekday", "weekday", []any{"2026-12-24"}, "Thursday", ""},

		{"split on white space", "split", []any{"  a b\t\nc  "}, []any{"a", "b", "c"}, ""},
		{"split blank", "split", []any{"   "}, []any{}, ""},
		{"split on separator", "split", []any{"a,b,,c,", ","}, []any{"a", "b", "", "c", ""}, ""},
		{"split empty on separator", "split", []any{"", ","}, []any{""}, ""},
		{"split into runes", "split", []any{"hé", ""}, []any{"h", "é"}, ""},
		{"split nil", "split", []any{nil}, nil, "split: want a string, got nil"},
		{"split atom separator", "split", []any{"a", Atom(",")}, nil, "split: want a string separator, got atom"},

		{"keys", "keys", []any{map[string]any{"b": 1, "a": 2, "c": 3}}, []any{"a", "b", "c"}, ""},
		{"keys of nil", "keys", []any{nil}, []any{}, ""},
		{"keys of Go map", "keys", []any{map[string]int{"z": 1}}, []any{"z"}, ""},
		{"keys of list", "keys", []any{[]any{}}, nil, "keys: want a map, got list"},
		{"values in key order", "values", []any{map[string]any{"b": 1, "a": "x", "c": nil}}, []any{"x", 1, nil}, ""},
		{"values of empty", "values", []any{map[string]any{}}, []any{}, ""},
		{"values of string", "values", []any{"s"}, nil, "values: want a map, got string"},

		{"sort numbers", "sort", []any{[]any{3, 1.5, -2, 2.0, 1}}, []any{-2, 1, 1.5, 2.0, 3}, ""},
		{"sort strings", "sort", []any{[]any{"b", "B", "a", ""}}, []any{"", "B", "a", "b"}, ""},
		{"sort atoms", "sort", []any{[]any{Atom("b"), Atom("a")}}, []any{Atom("a"), Atom("b")}, ""},
		{"sort mixed kinds", "sort",
			[]any{[]any{map[string]any{}, "s", []any{}, Atom("a"), 1, true, nil, false}},
			[]any{nil, false, true, 1, Atom("a"), "s", []any{}, map[string]any{}}, ""},
		{"sort lists", "sort", []any{[]any{[]any{1, 2}, []any{1}, []any{0, 5}}}, []any{[]any{0, 5}, []any{1}, []any{1, 2}}, ""},
		{"sort maps", "sort", []any{[]any{map[string]any{"b": 1}, map[string]any{"a": 2}, map[string]any{"a": 1}}},
			[]any{map[string]any{"a": 1}, map[string]any{"a": 2}, map[string]any{"b": 1}}, ""},
		{"sort is stable for equal numbers", "sort", []any{[]any{1.0, 1, 0}}, []any{0, 1.0, 1}, ""},
		{"sort empty", "sort", []any{[]any{}}, []any{}, ""},
		{"sort nil", "sort", []any{nil}, []any{}, ""},
		{"sort map", "sort", []any{map[string]any{}}, nil, "sort: want a list, got map"},

		{"uniq", "uniq", []any{[]any{1, "a", 1.0, Atom("a"), "a", nil, nil, 2}}, []any{1, "a", Atom("a"), nil, 2}, ""},
		{"uniq containers", "uniq", []any{[]any{[]any{1}, []any{1.0}, map[string]any{}, map[string]any{}, []any{2}}},
			[]any{[]any{1}, map[string]any{}, []any{2}}, ""},
		{"uniq keeps fractions apart", "uniq", []any{[]any{1.5, 1, 1.5}}, []any{1.5, 1}, ""},
		{"uniq nil", "uniq", []any{nil}, []any{}, ""},
		{"uniq number", "uniq", []any{1}, nil, "uniq: want a list, got number"},

		{"downcase", "downcase", []any{"HéLLO"}, "héllo", ""},
		{"upcase", "upcase", []any{"héllo"}, "HÉLLO", ""},
		{"upcase list", "upcase", []any{[]any{}}, nil, "upcase: want a string, got list"},
		{"upcase atom", "upcase", []any{Atom("a")}, nil, "upcase: want a string, got atom"},
		{"capitalize", "capitalize", []any{"hELLO wORLD"}, "Hello world", ""},
		{"capitalize non-ASCII", "capitalize", []any{"éCOLE"}, "École", ""},
		{"capitalize empty", "capitalize", []any{""}, "", ""},
		{"capitalize nil", "capitalize", []any{nil}, nil, "capitalize: want a string, got nil"},
		{"downcase two arguments", "downcase", []any{"a", "b"}, nil, "downcase: want 1 argument, got 2"},

		{"replace all", "replace", []any{"a-b-c", "-", "+"}, "a+b+c", ""},
		{"replace nothing found", "replace", []any{"abc", "x", "y"}, "abc", ""},
		{"replace empty", "replace", []any{"ab", "", "-"}, "-a-b-", ""},
		{"replace number", "replace", []any{"a1", 1, "x"}, nil, "replace: want a string to replace, got number"},
		{"replace two arguments", "replace", []any{"a", "b"}, nil, "replace: want 3 arguments, got 2"},

		{"regex_replace", "regex_replace", []any{"a1b22", `[0-9]+`, "#"}, "a#b#", ""},
		{"regex_replace groups", "regex_replace", []any{"John Smith", `(\w+) (\w+)`, "$2, $1"}, "Smith, John", ""},
		{"regex_replace named group", "regex_replace", []any{"ab", `(?P<x>b)`, "[${x}]"}, "a[b]", ""},
		{"regex_replace invalid", "regex_replace", []any{"a", "(", "x"}, nil,
			"regex_replace: invalid pattern \"(\": error parsing regexp: missing closing ): `(`"},
		{"regex_replace nil", "regex_replace", []any{nil, "a", "b"}, nil, "regex_replace: want a string, got nil"},
		{"regex_replace list pattern", "regex_replace", []any{"a", []any{}, "b"}, nil, "regex_replace: want a string pattern, got list"},

		{"group_name of nothing", "group_name", nil, nil, "group_name: want at least 1 argument, got 0"},
		{"group_name of empty list", "group_name", []any{[]any{}}, nil, "group_name: want at least 1 id, got an empty list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := callBuiltin(t, tt.fn, tt.args...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %#v, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !valueIdentical(got, tt.want) && !(got == nil && tt.want == nil) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestSortNaNFirst(t *testing.T) {
	got, err := callBuiltin(t, "sort", []any{1, math.NaN(), -1.5, math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	l := got.([]any)
	if !isNaNValue(l[0]) || !isNaNValue(l[1]) || l[2] != -1.5 || l[3] != 1 {
		t.Errorf("got %v, want [NaN NaN -1.5 1]", l)
	}
}

func TestBuiltinsDoNotMutate(t *testing.T) {
	list := []any{3, 1, 2, 1, []any{2, 1}}
	m := map[string]any{"b": []any{1}, "a": 2}
	for _, call := range []struct {
		fn   string
		args []any
	}{
		{"sort", []any{list}}, {"uniq", []any{list}}, {"join", []any{list, ","}},
		{"keys", []any{m}}, {"values", []any{m}}, {"group_name", []any{list}}, {"first", []any{list}},
	} {
		if _, err := callBuiltin(t, call.fn, call.args...); err != nil {
			t.Fatalf("%s: %v", call.fn, err)
		}
	}
	if want := []any{3, 1, 2, 1, []any{2, 1}}; !valueIdentical(list, want) {
		t.Errorf("got list %#v, want %#v", list, want)
	}
	if want := map[string]any{"b": []any{1}, "a": 2}; !valueIdentical(m, want) {
		t.Errorf("got map %#v, want %#v", m, want)
	}
	sorted, _ := callBuiltin(t, "sort", list)
	sorted.([]any)[0] = "changed"
	if list[0] != 3 {
		t.Errorf("sort returned its argument: got %#v", list)
	}
}

func TestGroupName(t *testing.T) {
	shape := regexp.MustCompile(`^~[a-z2-7]{8}$`)
	tests := []struct {
		name string
		a, b []any // argument lists that must give the same id
	}{
		{"order of arguments", []any{"web:1", "web:2", "web:3"}, []any{"web:3", "web:1", "web:2"}},
		{"list or arguments", []any{[]any{"x", "y"}}, []any{"y", "x"}},
		{"Go slice or arguments", []any{[]string{"x", "y"}}, []any{"y", "x"}},
		{"numbers are formatted", []any{1, 2.0}, []any{"2", "1"}},
		{"single id", []any{"solo"}, []any{[]any{"solo"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, errA := callBuiltin(t, "group_name", tt.a...)
			b, errB := callBuiltin(t, "group_name", tt.b...)
			if errA != nil || errB != nil {
				t.Fatalf("got errors %v, %v", errA, errB)
			}
			if a != b {
				t.Errorf("got %v and %v, want the same id", a, b)
			}
			if !shape.MatchString(a.(string)) {
				t.Errorf("got %q, want a match for %s", a, shape)
			}
		})
	}
}

func TestGroupNameValues(t *testing.T) {
	tests := []struct {
		args []any
		want string
	}{
		// SHA-256("a\x00b") starts 59 b2 71 ae 1b: base32 "lgzhdlq3".
		{[]any{"b", "a"}, "~lgzhdlq3"},
		{[]any{"web:2", "web:1"}, "~azuehyep"},
		{[]any{"a"}, ""},
		{[]any{"a", "a"}, ""},
	}
	seen := map[string]bool{}
	for i, tt := range tests {
		got, err := callBuiltin(t, "group_name", tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("group_name(%q): got %q, want %q", tt.args, got, tt.want)
		}
		if seen[got.(string)] {
			t.Errorf("case %d: group_name(%q) = %q repeats an earlier id", i, tt.args, got)
		}
		seen[got.(string)] = true
	}
}

func TestRegexpCacheBounded(t *testing.T) {
	b := newBuiltins()
	for i := range 300 {
		if _, err := b.regexps.get(fmt.Sprintf("a{%d}", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(b.regexps.m); got > 256 {
		t.Errorf("got %d cached patterns, want at most 256", got)
	}
	r1, _ := b.regexps.get("x+")
	r2, _ := b.regexps.get("x+")
	if r1 != r2 {
		t.Errorf("got a new regexp on the second call, want the cached one")
	}
}

func TestBuiltinsConcurrent(t *testing.T) {
	fns := pureBuiltins()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				pattern := fmt.Sprintf("[%d]+", (g+i)%300)
				got, err := fns["regex_replace"]("x0123456789", pattern, "")
				if err != nil || strings.Count(got.(string), "") > 12 {
					t.Errorf("regex_replace(%q): got %v, %v", pattern, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

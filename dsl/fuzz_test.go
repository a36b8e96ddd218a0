package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedScripts adds every golden script and example bot to the corpus.
func seedScripts(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, sec := range parseArchive(f, string(raw)) {
			if strings.HasSuffix(sec.name, ".bot") {
				f.Add(sec.body)
			}
		}
	}
	bots, _ := filepath.Glob("../scripts/examples/*/*.bot")
	for _, path := range bots {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw))
	}
}

// FuzzParse compiles arbitrary text: it must never panic or hang, and an
// error must name a position inside the file.
func FuzzParse(f *testing.F) {
	seedScripts(f)
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Compile("main.bot", src, RoleSession)
		if err == nil {
			return
		}
		list, ok := err.(ErrorList)
		if !ok || len(list) == 0 {
			t.Fatalf("error is %T %v, want a non-empty ErrorList", err, err)
		}
		lines := strings.Count(src, "\n") + 1
		for _, e := range list {
			if e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
				t.Fatalf("error outside the file (%d lines): %v", lines, e)
			}
		}
	})
}

// FuzzTranslate puts arbitrary text in expression position and evaluates
// it: translation, expr compilation and evaluation must never panic.
func FuzzTranslate(f *testing.F) {
	for _, seed := range []string{
		`1 + 2`, `"a #{b} c"`, `[name: "Ann", age: 3]`, `{a: 1}`, `:atom`, `x ? :a : :b`,
		`x ? y :z`, `filter([1, 2], it > 1)`, `chat_link("web", g: g)`, `user.name ?? "x"`,
		`a.b.c`, `@timeout`, `"#{"#{1}"}"`, `reduce([1], acc + it, 0)`, `not nil and 1`,
		`[1] + [2]`, `{a: 1} + {b: 2}`, `1..3`, `len("x")`, `-x`, `x?.y`, `_l`, `now()`,
		`item([1, 2], -1)`, `pluck([[a: 1]], "a")`, `join([1, 2, 3], ", ", " and ")`, `sort([[n: 2]], field: "n", direction: :desc)`,
		`pluralize("city", 2)`, `singularize("mice")`, `html_entity_encode("<a>")`, `date_add(today(), "-2h")`,
		`date_diff("2026-01-01", "2026-02-01", "days")`, `date_format(now(), "%A %e %B")`, `weekday("2026-12-24")`,
		`shuffle([1, 2])`, `[label: "L", value: 1]`, `repeat("ab", 3)`, `replace("aaa", "a", "bb")`,
		`regex_replace("a1", "[0-9]", "$0$0")`, `count([1, nil])`, `filter([1, nil], it)`, `toJSON([a: 1])`,
		`flatten([[1], [2, [3]]])`, `concat([1], [2])`, `fromJSON("[1, 2]")`, `string([1])`, `split("a b")`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if strings.ContainsAny(expr, "\n\r") {
			return
		}
		src := "dialog main do\n  x = " + expr + "\n  say x\nend\n"
		prog, err := Compile("main.bot", src, RoleSession)
		if err != nil {
			return
		}
		s := newSim(t, prog, false)
		s.env.Limits = Limits{MaxTurnTime: 100 * time.Millisecond}
		res := s.m.Turn(s.st, Message("hi"), s.env)
		if res.Err != nil && strings.Contains(res.Err.Msg, "internal error") {
			t.Fatalf("%q: %v", expr, res.Err)
		}
	})
}

// FuzzEntities looks for every entity kind in arbitrary text: it must never
// panic, and a value found must come from the text.
func FuzzEntities(f *testing.F) {
	for _, seed := range []string{"ann@example.com", "https://x.org/a.", "1,000.5", "-3", "24 December 2026",
		"dec 24", "tomorrow", "2026-02-30", "29 feb", "monday", "3rd march, 2027", "www.a.b"} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		for _, kind := range entityKinds {
			ent, ok := findEntity(kind, text, now)
			if ok && !strings.Contains(text, ent.text) {
				t.Fatalf("%s: found %q, which is not in %q", kind, ent.text, text)
			}
		}
	})
}

// FuzzIntent builds an intent of an arbitrary pattern and example and
// matches an arbitrary message: never a panic.
func FuzzIntent(f *testing.F) {
	f.Add("order|buy", "I would like a pizza", "I want to ordr")
	f.Add("my name is #<name>|[email]", "größe straße", "Größe?")
	f.Add("a||b", "", "")
	f.Fuzz(func(t *testing.T, pattern, example, msg string) {
		opts := map[string]any{"examples": []any{example}}
		if pattern != "" {
			opts["match"] = pattern
		}
		in, err := newIntent(opts)
		if err != nil {
			return
		}
		m := newMessage(msg)
		in.matchPattern(m)
		if s := in.score(m); s < 0 || s > 1 {
			t.Fatalf("score %v outside [0, 1]", s)
		}
	})
}

// FuzzData reads arbitrary text as a JSON and a YAML data file: an error
// must name a place inside the file.
func FuzzData(f *testing.F) {
	f.Add(`{"a": [1, 2.5, "x"]}`)
	f.Add("a:\n  - b: 1\n  - c\n")
	f.Add(`{"a": `)
	f.Fuzz(func(t *testing.T, src string) {
		for _, name := range []string{"faq.json", "faq.yaml"} {
			_, _, err := ParseData(map[string]string{name: src})
			if err == nil {
				continue
			}
			lines := strings.Count(src, "\n") + 1
			for _, e := range err.(ErrorList) {
				if e.Pos.File != name || e.Pos.Line < 0 || e.Pos.Line > lines {
					t.Fatalf("%s: error outside the file (%d lines): %v", name, lines, e)
				}
			}
		}
	})
}

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

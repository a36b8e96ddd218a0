package dsl

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// budgetVars are large variables for the budget tests: a string s of
// 999,999 bytes (under the 1 MiB value limit), a list l of 60,000 numbers,
// a map m of 20,000 entries, its pairs p, the list as JSON j and a base64
// text b.
var budgetVars = sync.OnceValue(makeBudgetVars)

func makeBudgetVars() map[string]any {
	l := make([]any, 60000)
	for i := range l {
		l[i] = i + 1
	}
	m := map[string]any{}
	var p []any
	for i := 1; i <= 20000; i++ {
		m[strconv.Itoa(i)] = i
	}
	for _, k := range sortedMapKeys(m) {
		p = append(p, []any{k, m[k]})
	}
	j, _ := json.MarshalIndent(l, "", "  ")
	return map[string]any{"s": strings.Repeat("a", 999999), "l": l, "m": m, "p": p, "j": string(j),
		"b": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 700000)))}
}

// runStatement runs stmt (line 2 of main) in a fresh conversation whose
// variables are budgetVars, and returns the turn's result.
func runStatement(t *testing.T, stmt string, lim Limits) Result {
	t.Helper()
	prog, err := Compile("main.bot", "dialog main do\n  "+stmt+"\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.st.Vars = maps.Clone(budgetVars())
	if lim.MaxTurnTime == 0 {
		lim.MaxTurnTime = time.Minute // a loaded machine must not turn these into time-limit failures
	}
	s.env.Limits = lim
	return s.m.Turn(s.st, Message("hi"), s.env)
}

// TestBudgetRefusesBeforeAllocating: every function and operator that can
// build a large value refuses to when the result would not fit the memory
// budget of one expression, with a message that names it.
func TestBudgetRefusesBeforeAllocating(t *testing.T) {
	const over = " more bytes, over the 1048576 one expression may allocate"
	tests := []struct{ stmt, want string }{
		{`x = replace(s, "a", s)`, "replace: memory budget exceeded: it needs at least 999998000001" + over},
		{`x = repeat(s, 1000000)`, "repeat: memory budget exceeded: it needs at least 999999000000" + over},
		{`x = repeat(s, 9223372036854775807)`, "repeat: memory budget exceeded: it needs at least more than 9223372036854775806" + over},
		{`x = join(map(1..1000, s))`, "join: memory budget exceeded: it needs at least 1999998" + over},
		{`x = join(map(1..1000, s), ", ")`, "join: memory budget exceeded: it needs at least 2002000" + over},
		{`x = regex_replace(s, "a", s)`, "regex_replace: memory budget exceeded: it needs at least 999999000000" + over},
		{`x = regex_replace(s, "a", "$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0$0")`, "regex_replace: memory budget exceeded: it needs at least 54999945" + over},
		{`x = map(1..20, s + s)`, "+: memory budget exceeded: it needs at least 1999998" + over},
		{`x = map(1..100, l + l)`, "+: memory budget exceeded: it needs at least 1920000" + over},
		{`x = map(1..100, m + m)`, "+: memory budget exceeded: it needs at least 1920000" + over},
		{`x = concat(l, l, l, l, l, l, l, l, l, l, l, l, l, l, l, l, l, l)`, "concat: memory budget exceeded: it needs at least 17280000" + over},
		{`x = flatten(map(1..100, l))`, "flatten: memory budget exceeded: it needs at least 96000000" + over},
		{`x = toJSON(map(1..100, s))`, "toJSON: memory budget exceeded: it needs at least 12000796" + over},
		{`x = string(map(1..100, s))`, "string: memory budget exceeded: it needs at least 2000103" + over},
		{`x = split(s, "")`, "split: memory budget exceeded: it needs at least 47999952" + over},
		{`x = splitAfter(s, "a")`, "splitAfter: memory budget exceeded: it needs at least 48000000" + over},
		{`x = map(1..100, upper(s))`, "upper: memory budget exceeded: it needs at least 1999998" + over},
		{`x = map(1..100, capitalize(s))`, "capitalize: memory budget exceeded: it needs at least 1999998" + over},
		{`x = map(1..100, fromJSON(j))`, "fromJSON: memory budget exceeded: it needs at least 3408896" + over},
		{`x = map(1..100, toBase64(s))`, "toBase64: memory budget exceeded: it needs at least 1333332" + over},
		{`x = map(1..100, fromBase64(b))`, "fromBase64: memory budget exceeded: it needs at least 1866672" + over},
		{`x = map(1..100, reverse(l))`, "reverse: memory budget exceeded: it needs at least 960000" + over},
		{`x = map(1..100, sort(l))`, "sort: memory budget exceeded: it needs at least 960000" + over},
		{`x = map(1..100, uniq(l))`, "uniq: memory budget exceeded: it needs at least 960000" + over},
		{`x = map(1..100, keys(m))`, "keys: memory budget exceeded: it needs at least 640000" + over},
		{`x = map(1..100, values(m))`, "values: memory budget exceeded: it needs at least 640000" + over},
		{`x = map(1..100, toPairs(m))`, "toPairs: memory budget exceeded: it needs at least 1600000" + over},
		{`x = map(1..100, fromPairs(p))`, "fromPairs: memory budget exceeded: it needs at least 960000" + over},
		{`x = map(1..2000, filter(l, true))`, "memory budget exceeded: it needs at least 16" + over},
		{`say map(1..100, s)`, "memory budget exceeded: it needs at least 2000104" + over},
		{`say "#{map(1..100, s)}"`, "memory budget exceeded: it needs at least 2000104" + over},
		{`emit map(1..100, s)`, "memory budget exceeded: it needs at least 2000104" + over},
		{`x = 1..100000000`, "memory budget exceeded: one expression may make at most 1000000 list and map items"},
	}
	for _, tt := range tests {
		t.Run(tt.stmt, func(t *testing.T) {
			res := runStatement(t, tt.stmt, Limits{MaxAllocBytes: 1 << 20})
			// The column is the failing call's or operator's (golden tests
			// pin columns); here the line and the exact message.
			if res.Err == nil || res.Err.Pos.Line != 2 || res.Err.Pos.Col < 7 ||
				res.Err.Error() != fmt.Sprintf("main.bot:2:%d: %s", res.Err.Pos.Col, tt.want) {
				t.Fatalf("got %v, want main.bot:2:COL: %s", res.Err, tt.want)
			}
			if len(res.Effects) != 0 {
				t.Errorf("the failed turn sent %d effects", len(res.Effects))
			}
		})
	}
}

// TestBudgetAllowsOrdinaryWork: the same functions work on values that fit,
// a smaller MaxAllocBytes refuses sooner, and each expression (not each
// turn) has its own budget.
func TestBudgetAllowsOrdinaryWork(t *testing.T) {
	res := runStatement(t, `x = length(join(map(1..10, s)))
  y = replace(repeat("ab", 1000), "a", "xyz")
  z = regex_replace(repeat("ab", 1000), "(a)", "$1$1")
  w = x + length(y) + length(z) + length(split(repeat("a b ", 1000)))
  say w`, Limits{})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := res.Effects[len(res.Effects)-1].Text; got != "10008990" {
		t.Errorf("got %s, want 10008990", got)
	}
	res = runStatement(t, `x = repeat("a", 2000)`, Limits{MaxAllocBytes: 1000})
	want := "main.bot:2:7: repeat: memory budget exceeded: it needs at least 2000 more bytes, over the 1000 one expression may allocate"
	if res.Err == nil || res.Err.Error() != want {
		t.Errorf("got %v, want %s", res.Err, want)
	}
}

// TestPredicateLoopsCheckTheTimeLimit: a loop inside one expression stops
// at the turn's time limit (checked every 1024 iterations) and is rolled
// back.
func TestPredicateLoopsCheckTheTimeLimit(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  l = map(1..100, it)\n  x = all(l, all(l, all(l, true)))\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.env.Limits = Limits{MaxTurnTime: time.Nanosecond}
	res := s.m.Turn(s.st, Message("hi"), s.env)
	if res.Err == nil || !res.Err.TimeLimit || res.Err.Error() != "main.bot:3:7: turn took longer than 1ns (an endless loop?)" {
		t.Fatalf("got %+v, want the time limit at line 3", res.Err)
	}
	if res.Steps != 2 || s.m.iters < 1024 || s.m.iters > 2048 {
		t.Errorf("stopped after %d statements and %d iterations, want 2 and the first check at 1024", res.Steps, s.m.iters)
	}
}

// TestLogLineCut: log lines are cut at MaxLogBytes, with a marker, and a
// large list is not formatted in full to be cut.
func TestLogLineCut(t *testing.T) {
	res := runStatement(t, "log s\n  log map(1..100, s)\n  log \"short\"", Limits{MaxLogBytes: 20})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var got []string
	for _, e := range res.Effects {
		if e.Kind == EffLog {
			got = append(got, e.Text)
		}
	}
	want := []string{"aaaaaaaaaaaaaaaaaaaa… [cut: 999999 bytes in all]", `["aaaaaaaaaaaaaaaaaa… [cut]`, "short"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	res = runStatement(t, "log s", Limits{})
	if n := len(res.Effects[len(res.Effects)-1].Text); n != 4096+len("… [cut: 999999 bytes in all]") {
		t.Errorf("default cut: %d bytes", n)
	}
}

// killerStatements are the statements of the isolation issue that used to
// end the process with "fatal error: runtime: out of memory".
var killerStatements = []string{
	`_s = repeat("a", 999999)` + "\n" + `x = replace(_s, "a", _s)`,
	`_s = repeat("a", 999999)` + "\n" + `x = repeat(_s, 1000000)`,
	`_s = repeat("a", 999999)` + "\n" + `x = regex_replace(_s, "a", _s)`,
	`_s = repeat("a", 999999)` + "\n" + `x = join(map(1..1000000, _s))`,
}

// TestOutOfMemoryStatementsInAChild runs the killer statements in a child
// process (this test binary again) whose address space is limited with
// ulimit -v: the child must print each refusal and exit 0.
func TestOutOfMemoryStatementsInAChild(t *testing.T) {
	if os.Getenv("DSL_KILLER_CHILD") == "1" {
		t.Skip("in the child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	limit := "ulimit -v 3000000; " // 3 GB of address space
	if raceEnabled {
		limit = "" // the race detector reserves terabytes of address space
	}
	cmd := exec.Command("sh", "-c", limit+`exec "$0" -test.run='^TestKillerChild$' -test.v -test.count=1`, exe)
	cmd.Env = append(os.Environ(), "DSL_KILLER_CHILD=1", "GOMEMLIMIT=1GiB")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"session: main.bot:3:5: replace: memory budget exceeded: it needs at least 999998000001 more bytes",
		"session: main.bot:3:5: repeat: memory budget exceeded: it needs at least 999999000000 more bytes",
		"session: main.bot:3:5: regex_replace: memory budget exceeded: it needs at least 999999000000 more bytes",
		"session: main.bot:3:15: memory budget exceeded: one expression may make at most 1000000 list and map items",
		"play: snippet:2:5: replace: memory budget exceeded: it needs at least 999998000001 more bytes",
		"play: snippet:2:5: repeat: memory budget exceeded: it needs at least 999999000000 more bytes",
		"--- PASS: TestKillerChild",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the child's output lacks %q:\n%s", want, out)
		}
	}
}

// TestKillerChild is the child of TestOutOfMemoryStatementsInAChild.
func TestKillerChild(t *testing.T) {
	if os.Getenv("DSL_KILLER_CHILD") != "1" {
		t.Skip("run by TestOutOfMemoryStatementsInAChild")
	}
	for _, stmts := range killerStatements {
		prog, err := Compile("main.bot", "dialog main do\n"+stmts+"\nend\n", RoleSession)
		if err != nil {
			t.Fatal(err)
		}
		s := newSim(t, prog, false)
		res := s.m.Turn(s.st, Message("hi"), s.env)
		t.Logf("session: %v", res.Err)
		if res.Err == nil {
			t.Errorf("%s: no error", stmts)
		}
	}
	for _, stmts := range killerStatements[:2] {
		s := playSim(t)
		s.env.Limits.MaxSteps = 1 << 40 // as the runtime sets it for plays
		res := s.play(stmts, "p")
		t.Logf("play: %v", res.Err)
		if res.Err == nil {
			t.Errorf("%s: no error", stmts)
		}
	}
}

// TestHeldBytes: an endless invoke or perform whose frames keep large local
// variables (or loop lists) stops when they hold more than MaxHeldBytes,
// instead of piling up gigabytes before the step limit.
func TestHeldBytes(t *testing.T) {
	tests := []struct{ src, want string }{
		{"dialog main do\n  invoke d\nend\ndialog d do\n  _x = repeat(\"a\", 999999)\n  invoke d\nend\n",
			"main.bot:6:3: dialogs and tasks waiting on invoke or perform hold more than 16777216 bytes of variables (an endless invoke?)"},
		{"dialog main do\n  perform t\nend\ntask t do\n  _x = repeat(\"a\", 999999)\n  perform t\nend\n",
			"main.bot:6:3: dialogs and tasks waiting on invoke or perform hold more than 16777216 bytes of variables (an endless invoke?)"},
		{"dialog main do\n  invoke d\nend\ndialog d do\n  repeat i in map(1..200000, it) do\n    invoke d\n  end\nend\n",
			"main.bot:6:5: dialogs and tasks waiting on invoke or perform hold more than 16777216 bytes of variables (an endless invoke?)"},
	}
	for _, tt := range tests {
		prog, err := Compile("main.bot", tt.src, RoleSession)
		if err != nil {
			t.Fatal(err)
		}
		s := newSim(t, prog, false)
		s.env.Limits.MaxTurnTime = time.Minute
		res := s.m.Turn(s.st, Message("hi"), s.env)
		if res.Err == nil || res.Err.Error() != tt.want {
			t.Errorf("got %v, want %s", res.Err, tt.want)
		}
	}
	// Frames that end give their bytes back: 100 invokes in a row are fine.
	prog, err := Compile("main.bot", "dialog main do\n  repeat i in 1..100 do\n    _x = repeat(\"a\", 999999)\n    invoke d\n  end\n  say \"done\"\nend\ndialog d do\n  _y = 1\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, prog, false)
	s.env.Limits.MaxTurnTime = time.Minute
	if res := s.m.Turn(s.st, Message("hi"), s.env); res.Err != nil || s.m.held != 0 {
		t.Errorf("got %v, held %d; want no error and nothing held", res.Err, s.m.held)
	}
}

package dsl

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// bigScript returns a realistic script of about n lines.
func bigScript(n int) string {
	var b strings.Builder
	b.WriteString("@timeout \"10m\"\n\n")
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < n; i++ {
		fmt.Fprintf(&b, `dialog step%d do
  say "Hello #{user.name}, this is step %d"
  color = ask "Favourite colour?", expecting: ["Red", "Blue", "Green"]
  if color == "Red" do
    score = (score ?? 0) + 1
  else
    say "#{color} is fine too"
  end
  repeat item in [1, 2, 3] do
    total = (total ?? 0) + item
  end
  emit "progress", [step: %d, total: total], to: :master
  invoke step%d
end

dialog trigger: "skip %d|jump #<n:[0-9]+>" do
  say "skipping to #{n}"
end

`, i, i, i, i+1, i)
	}
	fmt.Fprintf(&b, "dialog step%d do\n  stop\nend\n", strings.Count(b.String(), "dialog step"))
	return b.String()
}

// BenchmarkCompile2000Lines compiles a 2,000-line script.
func BenchmarkCompile2000Lines(b *testing.B) {
	src := bigScript(2000)
	lines := strings.Count(src, "\n")
	if _, err := Compile("main.bot", src, RoleSession); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compile("main.bot", src, RoleSession); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

const echoBot = `dialog main do
  ask "Say something"
  say answer
  goto main
end
`

func echoSetup(tb testing.TB) (*Machine, *State, *Env) {
	prog, err := Compile("main.bot", echoBot, RoleSession)
	if err != nil {
		tb.Fatal(err)
	}
	m, st := NewMachine(prog), NewState()
	env := &Env{Now: time.Unix(1_700_000_000, 0), User: map[string]any{"id": "u"}}
	m.Turn(st, Message("hi"), env)
	return m, st, env
}

// BenchmarkEchoTurn is one turn of the echo bot: the answer resumes the
// pending ask, say answer, goto main, ask again.
func BenchmarkEchoTurn(b *testing.B) {
	m, st, env := echoSetup(b)
	in := Message("hello")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := m.Turn(st, in, env)
		if res.Err != nil || len(res.Effects) != 3 {
			b.Fatalf("turn: %v %v", res.Err, res.Effects)
		}
	}
}

// suspendedState is a typical conversation waiting on an ask.
func suspendedState(tb testing.TB) (*State, *Program) {
	prog, err := Compile("main.bot", `dialog main do
  name = ask "Name?"
  invoke details
end
dialog details do
  _tries = 1
  age = ask "Age?", expecting: ["young", "old"]
end
`, RoleSession)
	if err != nil {
		tb.Fatal(err)
	}
	m, st := NewMachine(prog), NewState()
	env := &Env{Now: time.Unix(1_700_000_000, 0), User: map[string]any{}}
	m.Turn(st, Message("hi"), env)
	m.Turn(st, Message("Ann"), env)
	st.Vars["visits"] = 3
	st.Vars["tags"] = []any{"new", "web"}
	return st, prog
}

// BenchmarkStateRoundTrip encodes and decodes a suspended conversation.
func BenchmarkStateRoundTrip(b *testing.B) {
	st, prog := suspendedState(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw, err := Marshal(st)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UnmarshalState(raw, prog); err != nil {
			b.Fatal(err)
		}
	}
}

// intentBot has 50 intents of 10 examples each (and a match: pattern),
// each the trigger of a dialog.
func intentBot(tb testing.TB) *Program {
	words := strings.Fields("pizza pasta salad delivery booking table refund invoice password account " +
		"weather holiday flight hotel parking ticket concert museum garden coffee " +
		"breakfast dinner lunch dessert allergy gluten vegan payment card voucher")
	var b strings.Builder
	for i := range 50 {
		var ex []string
		for j := range 10 {
			w1, w2 := words[(i+j)%len(words)], words[(i*7+j*3)%len(words)]
			ex = append(ex, fmt.Sprintf("%q", fmt.Sprintf("I would like to ask about %s and %s number %d", w1, w2, j)))
		}
		fmt.Fprintf(&b, "@i%d intent(match: \"topic%d|subject%d please\", examples: [%s])\n", i, i, i, strings.Join(ex, ", "))
	}
	b.WriteString("dialog main do\n  say \"hi\"\nend\n")
	for i := range 50 {
		fmt.Fprintf(&b, "dialog trigger: @i%d do\n  say \"%d\"\nend\n", i, i)
	}
	b.WriteString("dialog __unknown__ do\n  say \"?\"\nend\n")
	prog, err := Compile("main.bot", b.String(), RoleSession)
	if err != nil {
		tb.Fatal(err)
	}
	return prog
}

// BenchmarkIntentMatch is one user message matched against 50 intents of
// 10 examples each: it matches none of them, so every pattern and example
// is tried, and __unknown__ answers.
func BenchmarkIntentMatch(b *testing.B) {
	prog := intentBot(b)
	m, st := NewMachine(prog), NewState()
	env := &Env{Now: time.Unix(1_700_000_000, 0), User: map[string]any{"id": "u"}}
	m.Turn(st, Message("hi"), env)
	in := Message("Could you tell me something about the opening hours of the shop tomorrow?")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := m.Turn(st, in, env)
		if res.Err != nil || len(res.Effects) != 2 || res.Effects[1].Text != "?" {
			b.Fatalf("turn: %v %v", res.Err, res.Effects)
		}
	}
}

// BenchmarkIntentMatchHit matches the last of the 50 intents by an example
// with a typo.
func BenchmarkIntentMatchHit(b *testing.B) {
	prog := intentBot(b)
	m, st := NewMachine(prog), NewState()
	env := &Env{Now: time.Unix(1_700_000_000, 0), User: map[string]any{"id": "u"}}
	m.Turn(st, Message("hi"), env)
	in := Message("I would like to ask about vouchr and garden")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := m.Turn(st, in, env)
		if res.Err != nil || len(res.Effects) != 2 || res.Effects[1].Text == "?" {
			b.Fatalf("turn: %v %v", res.Err, res.Effects)
		}
	}
}

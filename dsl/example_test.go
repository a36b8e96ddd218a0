package dsl_test

import (
	"fmt"
	"time"

	"botserver/dsl"
)

// Compile a script, run a turn, keep the state between turns as bytes,
// and run the next turn on the decoded state: the host (package actors)
// does this for every conversation, and carries out the effects.
func Example() {
	prog, err := dsl.Compile("main.bot", `
dialog main do
  name = ask "What is your name?"
  say "Hello, #{name}!"
end`, dsl.RoleSession)
	if err != nil {
		fmt.Println(err) // file:line:col with a caret
		return
	}
	m, st := dsl.NewMachine(prog), dsl.NewState()
	env := &dsl.Env{Now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Stopwatch: time.Now}
	say := func(res dsl.Result) {
		for _, e := range res.Effects {
			if e.Kind == dsl.EffSay {
				fmt.Println("bot:", e.Text)
			}
		}
	}
	say(m.Turn(st, dsl.Input{Kind: dsl.InStart}, env)) // main runs, and waits at ask

	raw, err := dsl.Marshal(st) // what the store keeps
	if err != nil {
		panic(err)
	}
	st, err = dsl.UnmarshalState(raw, prog)
	if err != nil {
		panic(err)
	}
	say(m.Turn(st, dsl.Message("Ada"), env))
	// Output:
	// bot: What is your name?
	// bot: Hello, Ada!
}

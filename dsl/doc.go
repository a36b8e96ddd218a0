// Package dsl is botserver's bot language: lexer, parser, compiler and a
// resumable interpreter. It does no I/O, runs no goroutines and reads no
// clock of its own: the host gives a turn its time (Env.Now) and the
// stopwatch its wall-time limit is measured with (Env.Stopwatch).
//
// Compile turns a .bot file into an immutable Program (expressions are
// compiled once, with expr-lang/expr). A Machine runs one turn at a time — a
// user message, an event, a query reply, a timer — against a State, and
// returns the Effects for the host to carry out (say, emit, query, arm a
// timer, ...). A turn either finishes or suspends (ask, query, pause); the
// State can be encoded to protobuf at any suspension point and resumed later.
// A failing turn is rolled back as a whole. Every allocation a builtin makes
// is counted against Limits before it is made. LoadBot/CompileBot compile a
// bot folder, data files (NAME.json, NAME.yaml: @NAME) included.
//
//	prog, err := dsl.Compile("main.bot", src, dsl.RoleSession)
//	m, st := dsl.NewMachine(prog), dsl.NewState()
//	res := m.Turn(st, dsl.Message("hello"), &dsl.Env{Now: time.Now(), Stopwatch: time.Now, Rand: rnd.Uint64})
//	for _, e := range res.Effects { ... }
//	raw, _ := dsl.Marshal(st) // persist; dsl.UnmarshalState(raw, prog) resumes
package dsl

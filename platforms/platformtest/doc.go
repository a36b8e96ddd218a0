// Package platformtest is an in-memory platform for tests: it records what
// each conversation receives and injects what users say, through the
// runtime's gateway API only (Deliver, Send).
//
// It also runs transcript tests (botserver test, and go test for the
// example bots): each transcript gets a fresh in-memory store, a runtime on a
// fake clock, and lets the whole bot settle after every line (`alice+`
// opens alice's conversation without a message, as a web client does on
// connect; `alice> hi` on one not yet opened opens it with that message;
// every conversation of docs/language.md is run this way). A line whose
// turn hits a run-time error that __error__ does not handle fails, with
// the script's file:line:col and a caret. The binary
// links it (botserver test), so it does not import package testing: the
// helpers that take a testing.TB are in internal/testkit.
//
//	p := platformtest.New()
//	rt.RegisterPlatform(platformtest.Name, p)
//	p.Say(rt, "echo", "alice", "hi")
//	rt.Settle(ctx)
//	msgs := p.Take("test:alice")
//
//	failures, err := platformtest.RunTranscript(bot, "echo.transcript", text)
package platformtest

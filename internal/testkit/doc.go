// Package testkit holds the helpers tests share and the binary never
// links: a runtime over a real store for one test (StartRuntime) and
// polling with a deadline instead of sleeping (WaitFor).
//
//	rt, db := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{})
//	testkit.WaitFor(t, 10*time.Second, func() bool { return rt.Metrics().Turns.Load() > 0 }, "a turn")
package testkit

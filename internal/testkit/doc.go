// Package testkit holds the helpers tests share and the binary never
// links: a runtime over a real store for one test (StartRuntime,
// OpenRuntime, or OpenRuntimeOn for any backend), polling with a
// deadline instead of sleeping (WaitFor), a fake Slack Web API and Socket
// Mode on 127.0.0.1 (Slack, SlackSignature, SlackDM, SocketFrame) and a
// web chat websocket client (WSClient, with Line to render frames).
// Subpackage guide extracts the language guide's conversations.
//
//	rt, db := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{})
//	testkit.WaitFor(t, 10*time.Second, func() bool { return rt.Metrics().Turns.Load() > 0 }, "a turn")
//	c := testkit.DialChat(t, nil, "ws://"+addr+"/ws/echo")
//	c.Say("hi")
//	c.Expect("hi")
package testkit

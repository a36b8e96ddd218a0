package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/admin"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

const convBot = `@timeout "30d"

dialog main do
  say "hi"
end
dialog trigger: "name" do
  invoke ask_name
end
dialog ask_name do
  n = ask "Your name?"
  say "Hi " + n
end
dialog __unknown__ do
  say message
end
`

// TestAdminConversations: the conversations method lists a bot's stored
// conversations (passivated ones too) most recently active first, with
// the dialog whose ask waits, a page at a time, and refuses bad params.
func TestAdminConversations(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := actors.NewFakeClock(t0)
	rt, _ := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{Clock: clock, IdleAfter: 2 * time.Minute})
	rt.RegisterPlatform(platformtest.Name, platformtest.New())
	bot, err := dsl.LoadBot(fstest.MapFS{"main.bot": {Data: []byte(convBot)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "people", bot); err != nil {
		t.Fatal(err)
	}
	say := func(user, text string) {
		t.Helper()
		if err := rt.Deliver(platformtest.Conv("people", user, ""), botserver.Inbound{Text: text, Name: user}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	say("ann", "hello")
	clock.Advance(time.Minute)
	say("bob", "hello")
	say("bob", "name") // waits in ask_name
	clock.Advance(time.Minute)
	say("cara", "hello")
	testkit.WaitFor(t, 10*time.Second, func() bool { // passivate them all
		clock.Advance(30 * time.Second) // @timeout, which would end the ask, is far away
		return rt.Status()[0].Sessions == 0
	}, "the conversations to passivate")

	hs := httptest.NewServer(admin.New(admin.Options{Runtime: rt}))
	defer hs.Close()
	api, err := admin.Dial(context.Background(), hs.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()

	first, err := api.Conversations("people", 2, "")
	if err != nil {
		t.Fatal(err)
	}
	ask := "ask_name"
	want := []admin.ConversationRow{
		{Address: "test:cara", User: "cara", Platform: "test", LastActive: "2026-03-01T09:02:00Z"},
		{Address: "test:bob", User: "bob", Platform: "test", LastActive: "2026-03-01T09:01:00Z", WaitingIn: &ask},
	}
	if mustJSON(first.Conversations) != mustJSON(want) || first.Next == "" {
		t.Fatalf("first page: %s next %q, want %s and a next", mustJSON(first.Conversations), first.Next, mustJSON(want))
	}
	second, err := api.Conversations("people", 2, first.Next)
	if err != nil {
		t.Fatal(err)
	}
	want = []admin.ConversationRow{{Address: "test:ann", User: "ann", Platform: "test", LastActive: "2026-03-01T09:00:00Z"}}
	if mustJSON(second.Conversations) != mustJSON(want) || second.Next != "" {
		t.Errorf("second page: %s next %q, want %s and no next", mustJSON(second.Conversations), second.Next, mustJSON(want))
	}
	var raw map[string]any // next is absent at the end; waiting_in is null
	if err := api.Call("conversations", map[string]any{"bot": "people"}, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["next"]; ok || len(raw["conversations"].([]any)) != 3 {
		t.Errorf("default page: %v, want all 3 and no next", raw)
	}
	if w, ok := raw["conversations"].([]any)[0].(map[string]any)["waiting_in"]; !ok || w != nil {
		t.Errorf("waiting_in of cara: %v (present %v), want null", w, ok)
	}
	for _, tc := range []struct {
		params map[string]any
		code   int
		msg    string
	}{
		{map[string]any{}, admin.CodeInvalidParams, `invalid params: "bot" is required`},
		{map[string]any{"bot": "people", "limit": 501}, admin.CodeInvalidParams, "invalid params: limit: 501 must be between 1 and 500 (0: 50)"},
		{map[string]any{"bot": "people", "limit": -1}, admin.CodeInvalidParams, "invalid params: limit: -1 must be between 1 and 500 (0: 50)"},
		{map[string]any{"bot": "people", "after": "tomorrow"}, admin.CodeInvalidParams, `invalid params: after: not a cursor of this list: "tomorrow"`},
		{map[string]any{"bot": "nope"}, admin.CodeNotFound, "unknown bot: nope"},
	} {
		var re *admin.Error
		if err := api.Call("conversations", tc.params, nil); !errors.As(err, &re) || re.Code != tc.code || re.Message != tc.msg {
			t.Errorf("conversations %v: %v, want %d %q", tc.params, err, tc.code, tc.msg)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

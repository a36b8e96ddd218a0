package admin_test

import (
	"context"
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

// TestAdminConversationsWithoutLastActive: conversations last written
// before last_active was recorded show the Unix epoch (docs/protocol.md)
// and come last, and a page that ends on one gives a cursor that moves on:
// paging through them returns each once and ends.
func TestAdminConversationsWithoutLastActive(t *testing.T) {
	clock := actors.NewFakeClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	rt, db := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{Clock: clock, IdleAfter: -1})
	rt.RegisterPlatform(platformtest.Name, platformtest.New())
	bot, err := dsl.LoadBot(fstest.MapFS{"main.bot": {Data: []byte(convBot)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "people", bot); err != nil {
		t.Fatal(err)
	}
	store, err := db.Bot("people")
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"old1", "old2", "old3"} { // as an older version wrote them: no field 12
		raw, err := dsl.AppendState(nil, &dsl.State{Vars: map[string]any{}, Turn: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("test:" + user), Value: raw}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.Deliver(platformtest.Conv("people", "new", ""), botserver.Inbound{Text: "hello", Name: "new"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Settle(ctx); err != nil {
		t.Fatal(err)
	}

	hs := httptest.NewServer(admin.New(admin.Options{Runtime: rt}))
	defer hs.Close()
	api, err := admin.Dial(context.Background(), hs.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	var got []string
	after := ""
	for page := 0; page < 10; page++ { // 4 conversations, 2 a page: 2 pages
		var res admin.Conversations
		err := api.Call("conversations", map[string]any{"bot": "people", "limit": 2, "after": after}, &res)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Conversations {
			got = append(got, c.Address+" "+c.LastActive)
		}
		if after = res.Next; after == "" {
			break
		}
	}
	want := []string{"test:new 2026-03-01T09:00:00Z", "test:old1 1970-01-01T00:00:00Z",
		"test:old2 1970-01-01T00:00:00Z", "test:old3 1970-01-01T00:00:00Z"}
	if mustJSON(got) != mustJSON(want) || after != "" {
		t.Errorf("paged through %s (next %q), want %s and an end", mustJSON(got), after, mustJSON(want))
	}
}

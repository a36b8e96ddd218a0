package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"botserver/admin"
)

// TestAdminHistory: the admin API's history method returns a conversation's
// frames as a resumed web client gets them, and refuses bad params.
func TestAdminHistory(t *testing.T) {
	m := startMain(t, testConfig(t, t.TempDir()))
	defer m.Close(context.Background())
	user, welcome := dialWS(t, m, "echo", url.Values{})
	user.Expect("Say something and I will say it back.")
	user.Say("hello there")
	user.Expect("hello there")
	addr := welcome["user"].(string)
	api := adminFor(t, m, "")
	var got struct {
		Frames []map[string]any `json:"frames"`
	}
	mustCall(t, api, "history", map[string]any{"bot": "echo", "conversation": addr}, &got)
	var lines []string
	for _, f := range got.Frames {
		if f["history"] != true || f["ts"] == nil {
			t.Errorf("frame %v lacks history:true or ts", f)
		}
		who := "bot"
		if f["from"] == "user" {
			who = "user"
		}
		lines = append(lines, who+": "+f["text"].(string))
	}
	want := []string{"bot: Say something and I will say it back.", "user: hello there", "bot: hello there"}
	if b1, b2 := mustJSON(lines), mustJSON(want); b1 != b2 {
		t.Errorf("history = %s, want %s", b1, b2)
	}
	mustCall(t, api, "history", map[string]any{"bot": "echo", "conversation": addr, "limit": 1}, &got)
	if len(got.Frames) != 1 || got.Frames[0]["text"] != "hello there" {
		t.Errorf("history with limit 1 = %v, want the last frame", got.Frames)
	}
	for _, tc := range []struct {
		params map[string]any
		code   int
		msg    string
	}{
		{map[string]any{"bot": "echo"}, admin.CodeInvalidParams, `invalid params: "bot" and "conversation" are required`},
		{map[string]any{"bot": "echo", "conversation": "master"}, admin.CodeInvalidParams, `invalid params: conversation: "master" is not a conversation's address (platform:user)`},
		{map[string]any{"bot": "echo", "conversation": addr, "limit": 201}, admin.CodeInvalidParams, `invalid params: limit: 201 must be between 0 (all) and 200`},
		{map[string]any{"bot": "nope", "conversation": addr}, admin.CodeNotFound, "unknown bot: nope"},
	} {
		var re *admin.Error
		if err := api.Call("history", tc.params, nil); !errors.As(err, &re) || re.Code != tc.code || re.Message != tc.msg {
			t.Errorf("history %v: %v, want %d %q", tc.params, err, tc.code, tc.msg)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

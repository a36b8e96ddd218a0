package main

import (
	"botserver/admin"
	"botserver/config"
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLimitsConfig: the config's limits object reaches the runtime and the
// web platform, and unknown fields in it are refused.
func TestLimitsConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "botserver.json")
	writeFile(t, path, `{"bots": [{"id": "a", "scripts": "bots/a"}],
  "limits": {"state_bytes": 500000, "queued_inputs": 8, "group_members": 50, "identities_per_minute": -1,
             "connections_per_minute": 30, "instance_failures": 3, "failure_window": "1m",
             "trusted_proxies": ["10.0.0.1", "192.168.0.0/16"]}}`)
	cfg, err := config.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	lim, policy := cfg.Limits.Runtime()
	if lim.StateBytes != 500000 || lim.QueuedInputs != 8 || lim.GroupMembers != 50 || policy.Max != 3 || policy.Within != time.Minute {
		t.Errorf("runtime limits %+v %+v", lim, policy)
	}
	writeFile(t, path, `{"bots": [{"id": "a", "scripts": "bots/a"}], "limits": {"queue": 8}}`)
	if _, err := config.LoadConfig(path); err == nil || !strings.Contains(err.Error(), `unknown field "queue"`) {
		t.Errorf("an unknown limit: %v", err)
	}
}

// TestAdminQuarantine: a conversation that keeps failing is listed by the
// admin API's quarantined (and in /metrics), its user gets
// conversation_quarantined, and release brings it back.
func TestAdminQuarantine(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Limits.InstanceFailures = 2
	m := startMain(t, cfg)
	defer m.Close(context.Background())
	user, welcome := dialWS(t, m, "echo", url.Values{})
	user.Expect("Say something and I will say it back.")
	addr := welcome["user"].(string)
	for range 3 {
		if err := m.rt.Crash("echo", addr); err != nil {
			t.Fatal(err)
		}
		settleMain(t, m)
	}
	if f := user.Read(); f["code"] != "conversation_quarantined" {
		t.Fatalf("the user got %v, want conversation_quarantined", f)
	}
	api := adminFor(t, m, "")
	var list struct {
		Quarantined []admin.QuarantinedRow `json:"quarantined"`
	}
	mustCall(t, api, "quarantined", map[string]any{"bot": "echo"}, &list)
	if q := list.Quarantined; len(q) != 1 || q[0].Address != addr || q[0].Kind != "session" || q[0].Error != "crash requested" || q[0].Failures != 3 || q[0].Since == "" {
		t.Fatalf("quarantined = %+v", q)
	}
	var st admin.Status
	mustCall(t, api, "status", map[string]any{}, &st)
	if st.Bots[0].ID != "echo" || st.Bots[0].Quarantined != 1 {
		t.Errorf("status %+v, want echo with one quarantined", st.Bots[0])
	}
	body := get(t, m.URL()+"/metrics")
	for _, want := range []string{`botserver_quarantined{bot="echo"} 1`, `botserver_quarantines_total{bot="echo"} 1`, `botserver_bot_up{bot="echo"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	mustCall(t, api, "release", map[string]any{"bot": "echo", "address": addr}, nil)
	user.WS.WriteJSON(map[string]string{"type": "message", "text": "back"})
	user.Expect("back")
	for _, tc := range []struct {
		method string
		params map[string]any
		code   int
		msg    string
	}{
		{"release", map[string]any{"bot": "echo", "address": addr}, admin.CodeNotFound, "not quarantined: " + addr},
		{"quarantined", map[string]any{"bot": "nope"}, admin.CodeNotFound, "unknown bot: nope"},
		{"quarantined", map[string]any{}, admin.CodeInvalidParams, `invalid params: "bot" is required (and "address" belongs to release)`},
		{"release", map[string]any{"bot": "echo"}, admin.CodeInvalidParams, `invalid params: "bot" and "address" are required`},
	} {
		var re *admin.Error
		if err := api.Call(tc.method, tc.params, nil); !errors.As(err, &re) || re.Code != tc.code || re.Message != tc.msg {
			t.Errorf("%s %v: %v, want %d %q", tc.method, tc.params, err, tc.code, tc.msg)
		}
	}
}

func settleMain(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.rt.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"botserver/config"

	"github.com/gorilla/websocket"
)

// writeConfig writes a config file with the echo and survey examples,
// echo with the given name and web settings (JSON).
func writeConfig(t *testing.T, echoExtra string) string {
	t.Helper()
	echo, _ := filepath.Abs("../../scripts/examples/echo")
	survey, _ := filepath.Abs("../../scripts/examples/survey")
	p := filepath.Join(t.TempDir(), "botserver.json")
	body := `{"listen":"127.0.0.1:0","data_dir":"` + filepath.Join(t.TempDir(), "data") + `","bots":[` +
		`{"id":"echo","scripts":"` + echo + `"` + echoExtra + `},{"id":"survey","scripts":"` + survey + `"}]}`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBotWebSettings: bots[].name and bots[].web.allowed_origins of the
// config reach the web chat through serve's wiring: a websocket from an
// allowed origin gets in (and is told the name), another origin and
// another bot refuse it, and the page's header shows the name.
func TestBotWebSettings(t *testing.T) {
	path := writeConfig(t, `,"name":"Parrot","web":{"allowed_origins":["https://shop.example.com"]}`)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "-config", path, "-check"}, stdio{nil, &out, &errb}); code != 0 || out.String() != "config ok: 2 bots\n" {
		t.Fatalf("serve -check: exit %d, %q %q", code, out.String(), errb.String())
	}
	cfg, err := config.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	m := startMain(t, cfg)
	defer m.Close(context.Background())
	dial := func(bot, origin string) (int, string) {
		ws, resp, err := websocket.DefaultDialer.Dial("ws://"+m.endpoint.Addr()+"/ws/"+bot, http.Header{"Origin": {origin}})
		if err != nil {
			if resp == nil {
				t.Fatalf("dial %s from %s: %v", bot, origin, err)
			}
			return resp.StatusCode, ""
		}
		defer ws.Close()
		var welcome struct{ Title string }
		if err := ws.ReadJSON(&welcome); err != nil {
			t.Fatal(err)
		}
		return http.StatusSwitchingProtocols, welcome.Title
	}
	for _, tc := range []struct {
		bot, origin string
		code        int
		title       string
	}{
		{"echo", "https://shop.example.com", 101, "Parrot"},
		{"echo", "https://evil.example.com", 403, ""},
		{"survey", "https://shop.example.com", 403, ""},
		{"echo", "http://" + m.endpoint.Addr(), 101, "Parrot"}, // the server's own page
	} {
		if code, title := dial(tc.bot, tc.origin); code != tc.code || title != tc.title {
			t.Errorf("%s from %s: %d %q, want %d %q", tc.bot, tc.origin, code, title, tc.code, tc.title)
		}
	}
	resp, err := http.Get("http://" + m.endpoint.Addr() + "/chat/echo")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(string(page), "Parrot") ||
		!strings.HasSuffix(csp, "frame-ancestors 'self' https://shop.example.com") {
		t.Errorf("the page lacks the name Parrot, or its CSP %q does not let the shop frame it", csp)
	}
}

// TestBotWebSettingsRefused: an allowed origin that is not one is refused
// at load, by serve -check, naming the field.
func TestBotWebSettingsRefused(t *testing.T) {
	path := writeConfig(t, `,"web":{"allowed_origins":["https://shop.example.com","shop.example.com/"]}`)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "-config", path, "-check"}, stdio{nil, &out, &errb})
	want := "botserver serve: invalid config:\n" +
		`bots[0].web.allowed_origins: bad allowed origin: "shop.example.com/" is not an origin like https://shop.example.com (scheme://host[:port], no path) or "*"` + "\n"
	if code != 1 || errb.String() != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errb.String(), want)
	}
}

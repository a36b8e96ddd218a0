package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "botserver.json")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	if _, err := LoadConfig(write(`{"listen": "127.0.0.1:1", "bots": [{"id": "a", "scripts": "x", "colour": 1}]}`)); err == nil || !strings.Contains(err.Error(), `unknown field "colour"`) {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := LoadConfig(write("{\n  \"listen\": 8080\n}")); err == nil || !strings.Contains(err.Error(), `2:17: listen: want a string, got a number`) {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := LoadConfig(write("{\n  \"listen\": \n}")); err == nil || !strings.Contains(err.Error(), "3:1: invalid character '}'") {
		t.Errorf("syntax error: %v", err)
	}
	cfg, err := LoadConfig(write(`{"bots": [{"id": "a", "scripts": "bots/a"}]}`))
	if err != nil || cfg.Bots[0].Scripts != filepath.Join(dir, "bots/a") {
		t.Fatalf("relative scripts: %+v %v", cfg, err)
	}
	cfg.ApplyEnv(func(k string) string { return map[string]string{"BOTSERVER_LISTEN": "127.0.0.1:9"}[k] })
	if cfg.Listen != "127.0.0.1:9" || cfg.DataDir != "./data" {
		t.Errorf("env and defaults: %+v", cfg)
	}
	raw, _ := json.Marshal(cfg)
	if strings.Contains(string(raw), "slack") {
		t.Errorf("a bot without slack marshals %s", raw)
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"botserver/dsl"
)

// TestScriptLimits: the "limits" object's script limits reach
// actors.Limits.Script; missing ones take dsl's defaults.
func TestScriptLimits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "botserver.json")
	if err := os.WriteFile(path, []byte(`{"listen": "127.0.0.1:0", "bots": [{"id": "a", "scripts": "."}], "limits": {
  "turn_steps": 5000, "play_steps": 200000, "alloc_bytes": 1048576, "held_bytes": 2097152,
  "undo_records": 500, "log_bytes": 256, "scheduled_events": 10}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lim, _ := cfg.Limits.Runtime()
	want := dsl.Limits{MaxSteps: 5000, MaxPlaySteps: 200000, MaxAllocBytes: 1 << 20, MaxHeldBytes: 2 << 20,
		MaxUndo: 500, MaxLogBytes: 256, MaxScheduled: 10}
	if lim.Script != want {
		t.Errorf("script limits %+v, want %+v", lim.Script, want)
	}
	var none LimitsConfig
	if lim, _ := none.Runtime(); lim.Script != (dsl.Limits{}) {
		t.Errorf("no script limits gave %+v, want zero (dsl's defaults)", lim.Script)
	}
}

// TestScriptLimitsRefused: each script limit out of range is refused,
// naming the field, the value, the range and the default; the runtime
// then gets the default.
func TestScriptLimitsRefused(t *testing.T) {
	l := LimitsConfig{ScriptLimits: ScriptLimits{TurnSteps: -1, PlaySteps: 1 << 31, AllocBytes: 100, HeldBytes: -5,
		UndoRecords: 10, LogBytes: 8, ScheduledEvents: -1}}
	var got []string
	l.validate(func(field string, value any, why string) { got = append(got, field+": "+quote(value)+" "+why) })
	want := []string{
		"limits.turn_steps: -1 must be between 1 and 1073741824 (0: the default 100000)",
		"limits.play_steps: 2147483648 must be between 1 and 1073741824 (0: the default 10000000)",
		"limits.alloc_bytes: 100 must be between 1024 and 1073741824 (0: the default 16777216)",
		"limits.held_bytes: -5 must be between 1024 and 1073741824 (0: the default 16777216)",
		"limits.undo_records: 10 must be between 64 and 1073741824 (0: the default 100000)",
		"limits.log_bytes: 8 must be between 64 and 1073741824 (0: the default 4096)",
		"limits.scheduled_events: -1 must be between 1 and 1073741824 (0: the default 1000)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lim, _ := l.Runtime(); lim.Script != (dsl.Limits{}) {
		t.Errorf("refused limits reach the runtime as %+v, want the defaults", lim.Script)
	}
}

package bots

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// TestDataFileEditReloads: editing a bot's data file (faq.yaml) is a
// change of its folder: the watcher's check lists the bot, a reload
// serves the new data, and a broken data file is refused once (the
// running version stays) and not listed again until it changes.
func TestDataFileEditReloads(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, at time.Time) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil { // distinct times, whatever the file system's resolution
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write("main.bot", "dialog __unknown__ do\n  say @faq.hours\nend\n", t0)
	write("faq.yaml", "hours: nine to five\n", t0)
	write("notes.txt", "not part of the bot\n", t0)

	rt, db := testkit.StartRuntime(t, persistence.Options{InMemory: true}, actors.Options{})
	p := platformtest.New()
	rt.RegisterPlatform(platformtest.Name, p)
	r := New(Options{Runtime: rt, Store: db})
	if err := r.Start(context.Background(), &Source{ID: "faq", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ask := func(user string) string {
		t.Helper()
		if err := rt.Deliver(platformtest.Conv("faq", user, ""), botserver.Inbound{Text: "hours?"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		out := p.Take(platformtest.Conv("faq", user, "").Address())
		if len(out) != 1 {
			t.Fatalf("%s got %d messages, want 1", user, len(out))
		}
		return out[0].Text
	}
	if got := ask("ann"); got != "nine to five" {
		t.Fatalf("before the edit: %q", got)
	}
	write("notes.txt", "edited\n", t0.Add(time.Second))
	if got := r.changed(); len(got) != 0 {
		t.Errorf("a file that is not the bot's changed: listed %v", got)
	}
	write("faq.yaml", "hours: ten to four\n", t0.Add(2*time.Second))
	if got := r.changed(); !reflect.DeepEqual(got, []string{"faq"}) {
		t.Fatalf("after editing faq.yaml the watcher lists %v, want [faq]", got)
	}
	if err := r.Reload("faq", nil); err != nil {
		t.Fatal(err)
	}
	if got := ask("bob"); got != "ten to four" {
		t.Errorf("after the reload: %q", got)
	}
	if got := r.changed(); len(got) != 0 {
		t.Errorf("after the reload the watcher lists %v", got)
	}
	write("faq.yaml", "hours: [unclosed\n", t0.Add(3*time.Second))
	if err := r.Reload("faq", nil); err == nil {
		t.Fatal("a broken data file was reloaded")
	}
	if got := r.changed(); len(got) != 0 {
		t.Errorf("a refused version is listed again: %v", got)
	}
	if got := ask("cat"); got != "ten to four" {
		t.Errorf("after a refused reload: %q, want the running version", got)
	}
}

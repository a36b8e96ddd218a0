package platformtest

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"botserver/dsl"
)

// TestExampleTranscripts runs every transcript of every example bot
// through the real runtime (actors, store, timers) on simulated time.
func TestExampleTranscripts(t *testing.T) {
	dirs, err := filepath.Glob("../../scripts/examples/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, dir := range dirs {
		bot, err := dsl.LoadBot(os.DirFS(dir))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		names := make([]string, 0, len(bot.Transcripts))
		for name := range bot.Transcripts {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t.Run(filepath.Base(dir)+"/"+name, func(t *testing.T) {
				failures, err := RunTranscript(bot, name, bot.Transcripts[name])
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range failures {
					t.Error(f)
				}
			})
		}
	}
}

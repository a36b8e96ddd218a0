package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"botserver/dsl"
	"botserver/platforms/platformtest"
)

// runTest runs every *.transcript of each bot folder, each against a fresh
// in-memory store on simulated time, and reports each failing line with
// what was expected and what came. It exits 1 when any line failed.
func runTest(_ context.Context, args []string, std stdio) int {
	return forEachDir("test", args, std, testDir)
}

func testDir(dir string, stdout, stderr io.Writer) bool {
	if !checkDir(dir, io.Discard, stderr) {
		return false
	}
	bot, _ := dsl.LoadBot(os.DirFS(dir))
	names := make([]string, 0, len(bot.Transcripts))
	for n := range bot.Transcripts {
		names = append(names, n)
	}
	sort.Strings(names)
	ok := true
	for _, name := range names {
		failures, err := platformtest.RunTranscript(bot, name, bot.Transcripts[name])
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "%s/%s: %v\n", dir, name, err)
			ok = false
		case len(failures) > 0:
			for _, f := range failures {
				fmt.Fprintf(stderr, "%s/%s\n", dir, f)
			}
			ok = false
		default:
			fmt.Fprintf(stdout, "ok   %s/%s\n", dir, name)
		}
	}
	if len(names) == 0 {
		fmt.Fprintf(stdout, "%s: no transcripts\n", dir)
	}
	return ok
}

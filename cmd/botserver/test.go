package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"botserver/dsl"
	"botserver/platforms/platformtest"
)

// runTest runs the *.transcript files of bot folders (or the transcript
// files named), each against a fresh in-memory store on simulated time,
// and reports each failing line with what was expected and what came. It
// exits 1 when any line failed.
func runTest(_ context.Context, args []string, std stdio) int {
	fs := newFlags("test", std)
	filter := fs.String("run", "", "run only the transcripts whose file name matches this regular expression")
	paths, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(paths) == 0 {
		fmt.Fprintln(std.err, "usage: botserver test DIR|FILE... [-run REGEX]")
		return 2
	}
	re, err := regexp.Compile(*filter)
	if err != nil {
		fmt.Fprintf(std.err, "botserver test: -run: %v\n", err)
		return 2
	}
	code = 0
	for _, p := range paths {
		if !testPath(p, re, std.out, std.err) {
			code = 1
		}
	}
	return code
}

// parseInterspersed parses flags before, between and after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		if args[0] == "--" { // only positionals after it
			return append(pos, args[1:]...), 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// testPath runs a bot folder's transcripts, or one transcript file with
// the bot of its folder.
func testPath(path string, re *regexp.Regexp, stdout, stderr io.Writer) bool {
	dir, only := path, ""
	st, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return false
	}
	if !st.IsDir() {
		if !strings.HasSuffix(path, ".transcript") {
			fmt.Fprintf(stderr, "%s: not a bot folder or a .transcript file\n", path)
			return false
		}
		dir, only = filepath.Dir(path), filepath.Base(path)
	}
	if !checkDir(dir, io.Discard, stderr) {
		return false
	}
	bot, _ := dsl.LoadBot(os.DirFS(dir))
	var names []string
	for n := range bot.Transcripts {
		if (only == "" || n == only) && re.MatchString(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	ok := true
	for _, name := range names {
		ok = testTranscript(dir, bot, name, stdout, stderr) && ok
	}
	switch {
	case len(names) > 0:
	case re.String() != "":
		fmt.Fprintf(stdout, "%s: no transcripts match -run %s\n", dir, re)
	default:
		fmt.Fprintf(stdout, "%s: no transcripts\n", dir)
	}
	return ok
}

func testTranscript(dir string, bot *dsl.Bot, name string, stdout, stderr io.Writer) bool {
	failures, err := platformtest.RunTranscript(bot, name, bot.Transcripts[name])
	switch {
	case err != nil && strings.HasPrefix(err.Error(), name+":"): // a line it cannot read
		fmt.Fprintf(stderr, "%s/%v\n", dir, err)
		return false
	case err != nil:
		fmt.Fprintf(stderr, "%s/%s: %v\n", dir, name, err)
		return false
	case len(failures) > 0:
		for _, f := range failures {
			fmt.Fprintf(stderr, "%s/%s\n", dir, f)
		}
		return false
	}
	fmt.Fprintf(stdout, "ok   %s/%s\n", dir, name)
	return true
}

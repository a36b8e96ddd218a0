package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"botserver/dsl"
)

// runCheck compiles each bot folder and prints every error, or a one-line
// summary per good bot. It exits 1 when any folder has errors.
func runCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return forEachDir("check", args, stdout, stderr, checkDir)
}

// forEachDir runs a command that takes bot folders: usage errors exit 2,
// a folder that fails makes it exit 1.
func forEachDir(name string, args []string, stdout, stderr io.Writer, run func(dir string, stdout, stderr io.Writer) bool) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "usage: botserver %s DIR...\n", name)
		return 2
	}
	code := 0
	for _, dir := range fs.Args() {
		if !run(dir, stdout, stderr) {
			code = 1
		}
	}
	return code
}

func checkDir(dir string, stdout, stderr io.Writer) bool {
	bot, err := dsl.LoadBot(os.DirFS(dir))
	if err != nil {
		var list dsl.ErrorList
		if !errors.As(err, &list) {
			fmt.Fprintf(stderr, "%s: %v\n", dir, err)
			return false
		}
		for _, e := range list {
			fmt.Fprintf(stderr, "%s\n", prefixed(dir, e))
		}
		fmt.Fprintf(stderr, "%s: %d error(s)\n", dir, len(list))
		return false
	}
	fmt.Fprintln(stdout, summary(dir, bot))
	return true
}

// prefixed renders an error with the folder in front of the file name.
func prefixed(dir string, e *dsl.Error) string {
	c := *e
	c.Pos.File = filepath.Join(dir, e.Pos.File)
	return c.Error()
}

func summary(dir string, bot *dsl.Bot) string {
	var parts []string
	for _, r := range []dsl.Role{dsl.RoleSession, dsl.RoleMaster, dsl.RoleGroup} {
		if p := bot.Program(r); p != nil {
			parts = append(parts, fmt.Sprintf("%s (%d lines, %d dialogs/tasks)", p.File, p.Lines(), len(p.Procs)))
		}
	}
	return fmt.Sprintf("%s: ok: %s; %d transcript(s)", dir, strings.Join(parts, ", "), len(bot.Transcripts))
}

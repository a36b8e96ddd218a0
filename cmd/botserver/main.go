package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// stdio are a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, args []string, std stdio) int
}

// commands are botserver's subcommands, in the order help lists them.
func commands() []command {
	return []command{
		{"serve", "[-config FILE] [-check] [-log-format text|json] [-debug-addr ADDR]", "run the server with the bots of the config (default: every bot under scripts/examples)", runServe},
		{"status", "[-addr URL] [-token T] [-json]", "show the bots of a running server: master, sessions, groups, platforms, chat URL", runStatus},
		{"play", "[-addr URL] [-token T] [-timeout D] BOT SNIPPET", "run a snippet in a bot's master on a running server and print its reply as JSON", runPlay},
		{"chat", "[-config FILE] [-data DIR] [-user NAME] BOT", "talk to a bot in the terminal (BOT: an id of the config, or a bot folder)", runChat},
		{"migrate-store", "FROM TO", "copy every bot's keys and the meta area from one store to an empty one (each a data dir or a postgres:// URL)", runMigrateStore},
		{"new", "NAME", "create a bot folder NAME with a main.bot and a passing transcript", runNew},
		{"check", "DIR...", "compile bot folders and print every error", runCheck},
		{"test", "DIR|FILE... [-run REGEX]", "run the *.transcript tests of bot folders, or the transcript files named", runTest},
		{"version", "", "print the version", runVersion},
		{"help", "[COMMAND]", "show how to use botserver or one command", runHelp},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run dispatches a command line; it returns the exit code.
func run(ctx context.Context, args []string, std stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage(std.out)
		return 0
	}
	cmd, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(std.err, "%s\n\n", unknownCommand("botserver", args[0]))
		usage(std.err)
		return 2
	}
	return cmd.run(ctx, args[1:], std)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "botserver runs chatbots written in the botserver language.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  botserver %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`botserver help COMMAND` shows a command's flags.")
}

// runHelp prints the usage of botserver or of one command with its flags.
func runHelp(ctx context.Context, args []string, std stdio) int {
	if len(args) == 0 {
		usage(std.out)
		return 0
	}
	cmd, ok := lookup(args[0])
	if !ok {
		fmt.Fprintln(std.err, unknownCommand("botserver help", args[0]))
		return 2
	}
	fmt.Fprintf(std.out, "usage: botserver %s %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	if cmd.name != "help" && cmd.name != "version" {
		cmd.run(ctx, []string{"-h"}, stdio{std.in, std.out, std.out}) // prints the flags
	}
	return 0
}

// newFlags is a command's flag set; -h prints its flags to the command's
// stderr (help passes stdout).
func newFlags(name string, std stdio) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() {
		defined := 0
		fs.VisitAll(func(*flag.Flag) { defined++ })
		if defined > 0 {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; ok is false with the exit code when the command
// must stop (0 after -h).
// A mistyped flag close to one of the command's gets "did you mean" in
// place of the list of flags.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		out.Write(buf.Bytes())
		return 0, false
	case err != nil:
		if s := flagSuggestion(fs, err); s != "" {
			fmt.Fprintf(out, "botserver %s: %v; %s\n", fs.Name(), err, s)
		} else {
			out.Write(buf.Bytes())
		}
		return 2, false
	}
	return 0, true
}

func runVersion(_ context.Context, _ []string, std stdio) int {
	fmt.Fprintln(std.out, "botserver", version)
	return 0
}

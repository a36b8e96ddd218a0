// Command botserver runs chatbots written in the botserver language.
//
//	botserver serve [-config FILE]   run the server
//	botserver check DIR...           compile bot folders and report every error
//	botserver test DIR...            run the bots' transcript tests
//	botserver version                print the version
package main

import (
	"context"
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
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	usage string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"serve [-config FILE]   run the server with the bots of the config (default: scripts/examples)", runServe},
		"status":  {"status [-addr URL] [-token T] [-json]   show the bots of a running server", runStatus},
		"check":   {"check DIR...           compile bot folders and print every error", runCheck},
		"test":    {"test DIR...            run the bots' *.transcript tests", runTest},
		"version": {"version                print the version", runVersion},
	}
}

// run dispatches a command line; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "botserver: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: botserver COMMAND [ARGS]")
	fmt.Fprintln(w)
	for _, name := range []string{"serve", "status", "check", "test", "version"} {
		fmt.Fprintln(w, "  botserver "+commands()[name].usage)
	}
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "botserver", version)
	return 0
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// newBotMain is the main.bot of `botserver new`: a greeting, a trigger and
// __unknown__, so the bot keeps answering whatever is said.
const newBotMain = `# %[1]s: made by botserver new. Edit it and save: botserver serve reloads it.
dialog main do
  say "Hi! I am %[1]s. Say hello, or anything else."
end

dialog trigger: "hi|hello" do
  say "Hello to you too!"
end

dialog __unknown__ do
  say "You said: " + message
end
`

// newBotTranscript is the transcript `botserver new` writes next to it;
// `botserver test` passes on it.
const newBotTranscript = `# the greeting, the trigger and the fallback
me> hi
me< Hi! I am %[1]s. Say hello, or anything else.
me> hello
me< Hello to you too!
me> how are you?
me< You said: how are you?
`

// runNew creates a bot folder with a main.bot and a passing transcript.
func runNew(_ context.Context, args []string, std stdio) int {
	fs := newFlags("new", std)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(std.err, "usage: botserver new NAME")
		return 2
	}
	dir := fs.Arg(0)
	if err := newBot(dir); err != nil {
		fmt.Fprintln(std.err, "botserver new:", err)
		return 1
	}
	fmt.Fprintf(std.out, "created %s: main.bot and %s.transcript\ntry: botserver test %s; botserver chat %s\n", dir, chatID(dir), dir, dir)
	return 0
}

func newBot(dir string) error {
	name := chatID(dir)
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s already exists: choose a new name", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil { // fails if it appeared meanwhile
		return err
	}
	quoted := strings.ReplaceAll(name, `"`, "")
	files := map[string]string{
		"main.bot":           fmt.Sprintf(newBotMain, quoted),
		name + ".transcript": fmt.Sprintf(newBotTranscript, quoted),
	}
	for file, body := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

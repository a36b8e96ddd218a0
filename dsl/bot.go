package dsl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Bot is a compiled bot folder.
type Bot struct {
	Title       string
	Description string
	Session     *Program          // main.bot
	Master      *Program          // master.bot, or nil
	Group       *Program          // group.bot, or nil
	Transcripts map[string]string // *.transcript files by name
}

// roleFiles maps the script files of a bot folder to their roles.
var roleFiles = []struct {
	name string
	role Role
}{{"main.bot", RoleSession}, {"master.bot", RoleMaster}, {"group.bot", RoleGroup}}

// LoadBot compiles the bot folder at the root of fsys. Its error is an
// ErrorList with every problem of every file (main.bot is required).
func LoadBot(fsys fs.FS) (*Bot, error) {
	files := map[string]string{}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".bot") || strings.HasSuffix(n, ".transcript") || n == "bot.json" || IsDataFile(n)) {
			continue
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		files[n] = string(b)
	}
	return CompileBot(files)
}

// CompileBot compiles a bot from its files by name (main.bot, master.bot,
// group.bot, bot.json, *.transcript, and data files NAME.json, NAME.yaml,
// which every script reads as @NAME). Unknown .bot files are an error.
func CompileBot(files map[string]string) (*Bot, error) {
	bot := &Bot{Transcripts: map[string]string{}}
	var errs ErrorList
	known := map[string]bool{"bot.json": true}
	data, dataHash, err := ParseData(files)
	errs = appendErrors(errs, "", err)
	for _, rf := range roleFiles {
		known[rf.name] = true
		src, ok := files[rf.name]
		if !ok {
			continue
		}
		prog, err := CompileWith(rf.name, src, rf.role, Options{Data: data, DataHash: dataHash})
		errs = appendErrors(errs, rf.name, err)
		*bot.slot(rf.role) = prog
	}
	if _, ok := files["main.bot"]; !ok {
		errs = append(errs, &Error{Pos: Pos{File: "main.bot"}, Msg: "missing: every bot needs a main.bot"})
	}
	if meta, ok := files["bot.json"]; ok {
		errs = appendErrors(errs, "bot.json", bot.meta(meta))
	}
	for _, name := range sortedNames(files) {
		switch {
		case strings.HasSuffix(name, ".transcript"):
			bot.Transcripts[name] = files[name]
		case !known[name] && path.Ext(name) == ".bot":
			errs = append(errs, &Error{Pos: Pos{File: name}, Msg: "unknown script file (want main.bot, master.bot or group.bot)"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return bot, nil
}

func (b *Bot) slot(r Role) **Program {
	switch r {
	case RoleMaster:
		return &b.Master
	case RoleGroup:
		return &b.Group
	}
	return &b.Session
}

// Program returns the program of a role, or nil.
func (b *Bot) Program(r Role) *Program { return *b.slot(r) }

// Source is the source of the bot's script file (main.bot, master.bot or
// group.bot), "" for another name: what RuntimeError.Display shows a line
// of.
func (b *Bot) Source(file string) string {
	for _, rf := range roleFiles {
		if rf.name == file {
			if p := b.Program(rf.role); p != nil {
				return p.Source
			}
		}
	}
	return ""
}

func (b *Bot) meta(src string) error {
	var m struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	dec := json.NewDecoder(strings.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return &Error{Pos: Pos{File: "bot.json"}, Msg: fmt.Sprintf("invalid: %v", err)}
	}
	b.Title, b.Description = m.Title, m.Description
	return nil
}

func appendErrors(list ErrorList, file string, err error) ErrorList {
	if err == nil {
		return list
	}
	var el ErrorList
	var e *Error
	switch {
	case errors.As(err, &el):
		return append(list, el...)
	case errors.As(err, &e):
		return append(list, e)
	}
	return append(list, &Error{Pos: Pos{File: file}, Msg: err.Error()})
}

func sortedNames(files map[string]string) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

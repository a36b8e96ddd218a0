package dsl

import (
	"fmt"
	"strings"
)

// Pos is a place in a script: file, 1-based line and column (in runes), and
// the byte offset.
type Pos struct {
	File string
	Line int
	Col  int
	Off  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a compile error or a run-time error of a script. Its Error text is
// "file:line:col: message", followed by the source line and a caret under
// the column when the source is known:
//
//	main.bot:3:10: unknown dialog "nope"
//	   3 |   invoke nope
//	     |          ^
type Error struct {
	Pos     Pos
	Msg     string
	Snippet string // the source line and caret; may be empty
}

func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Pos.File + ": " + e.Msg
	}
	if e.Snippet == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg + "\n" + e.Snippet
}

// ErrorList is every error found in a script or a bot folder, in order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Err returns nil for an empty list, the list otherwise.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// snippet renders line p.Line of src with a caret under p.Col.
func snippet(src string, p Pos) string {
	if p.Line < 1 {
		return ""
	}
	lines := strings.SplitN(src, "\n", p.Line+1)
	if len(lines) < p.Line {
		return ""
	}
	line := strings.TrimRight(strings.ReplaceAll(lines[p.Line-1], "\t", " "), "\r")
	num := fmt.Sprintf("%4d | ", p.Line)
	pad := strings.Repeat(" ", len(num)-2) + "| "
	col := p.Col
	if col < 1 {
		col = 1
	}
	return num + line + "\n" + pad + strings.Repeat(" ", col-1) + "^"
}

// RuntimeError is a failed turn: the state was rolled back to the turn's
// start. It names the statement that failed.
type RuntimeError struct {
	Pos       Pos
	Msg       string
	TimeLimit bool // the turn ran past Limits.MaxTurnTime
	Canceled  bool // Env.Cancel was closed
}

// Error is "file:line:col: message" (the text __error__ gets in
// event.payload), or "file: message" for a failure not at a statement.
func (e *RuntimeError) Error() string {
	switch {
	case e.Pos.Line == 0: // not at a statement (a limit on the whole state)
		return e.Pos.File + ": " + e.Msg
	case e.Pos.Col == 0:
		return e.Pos.File + ":" + fmt.Sprint(e.Pos.Line) + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Display is Error followed, as for check errors, by the failing line of
// src (the source of e.Pos.File) and a caret under the column:
//
//	main.bot:7:9: index out of range: 5 (array length is 1)
//	   7 |   say n[5]
//	     |         ^
func (e *RuntimeError) Display(src string) string {
	if e.Pos.Col == 0 {
		return e.Error()
	}
	if s := snippet(src, e.Pos); s != "" {
		return e.Error() + "\n" + s
	}
	return e.Error()
}

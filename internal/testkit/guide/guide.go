package guide

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Conversation is one transcript of the guide with the bot files shown
// before it (since the previous transcript).
type Conversation struct {
	Line       int    // of the transcript's opening fence: its first line is Line+1
	Transcript string // the lines, each ending in "\n"
	// Files are the bot's files: a ruby block is the script its first
	// line names ("# master.bot"), main.bot when it names none; a json or
	// yaml block is named by its info string ("json faq.json").
	Files map[string]string
}

// TranscriptLine matches a line of a transcript (the users botserver
// test accepts): m[1] is the user, m[2]
// the group ("@~room"), m[3] the kind ("< ", "<~ ", "> ", "! " or "+");
// "@wait 5m" and "# comment" lines match with m[1] empty.
var TranscriptLine = regexp.MustCompile(`^([A-Za-z0-9_]+)(@~[\w-]+)?(<~ |< |> |! |\+$)|^@wait |^# `)

// block is a fenced code block.
type block struct {
	info, body string
	line       int
}

// Conversations returns the guide's transcripts in order: fenced blocks
// without an info string whose every line is a transcript line. Such a
// block with a user's line and a line that is not one (a typo, a blank
// line) is an error, not prose: it would escape the tests.
func Conversations(path string) ([]Conversation, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("guide: %w", err)
	}
	var out []Conversation
	var files []block
	for _, b := range blocks(string(raw)) {
		if n, bad, ok := halfTranscript(b); ok {
			return nil, fmt.Errorf("guide: %s:%d: %q in a transcript is not a transcript line (the transcript would be left untested)", path, n, bad)
		}
		if !isTranscript(b) {
			if b.info == "ruby" || strings.HasPrefix(b.info, "json ") || strings.HasPrefix(b.info, "yaml ") {
				files = append(files, b)
			}
			continue
		}
		out = append(out, Conversation{Line: b.line, Transcript: b.body, Files: botFiles(files)})
		files = nil
	}
	return out, nil
}

// blocks splits markdown into its fenced code blocks.
func blocks(md string) []block {
	var out []block
	var cur *block
	for i, line := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{info: strings.TrimSpace(line[3:]), line: i + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		}
	}
	return out
}

// halfTranscript returns the first line (its number n in the guide) that
// is not a transcript line of a block without an info string that has a
// user's line ("alice> hi"): a mistyped transcript, which would otherwise
// pass for prose.
func halfTranscript(b block) (n int, bad string, ok bool) {
	if b.info != "" {
		return 0, "", false
	}
	users := false
	for i, l := range strings.Split(strings.TrimRight(b.body, "\n"), "\n") {
		m := TranscriptLine.FindStringSubmatch(l)
		switch {
		case m == nil && !ok:
			n, bad, ok = b.line+1+i, l, true
		case m != nil && m[1] != "":
			users = true
		}
	}
	return n, bad, ok && users
}

func isTranscript(b block) bool {
	if b.info != "" || strings.TrimSpace(b.body) == "" {
		return false
	}
	for _, l := range strings.Split(strings.TrimRight(b.body, "\n"), "\n") {
		if !TranscriptLine.MatchString(l) {
			return false
		}
	}
	return true
}

// botFiles names the code blocks before a transcript.
func botFiles(blocks []block) map[string]string {
	files := map[string]string{}
	for _, b := range blocks {
		name := "main.bot"
		if b.info != "ruby" {
			name = strings.Fields(b.info)[1]
		} else if f := strings.Fields(strings.SplitN(b.body, "\n", 2)[0]); len(f) > 1 && f[0] == "#" && strings.HasSuffix(strings.TrimSuffix(f[1], ":"), ".bot") {
			name = strings.TrimSuffix(f[1], ":")
		}
		files[name] = b.body
	}
	return files
}

// Lines returns the transcript's lines.
func (c Conversation) Lines() []string {
	return strings.Split(strings.TrimRight(c.Transcript, "\n"), "\n")
}

// Users returns the users the transcript speaks as, sorted.
func (c Conversation) Users() []string {
	seen := map[string]bool{}
	for _, l := range c.Lines() {
		if m := TranscriptLine.FindStringSubmatch(l); m != nil && m[1] != "" {
			seen[m[1]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// InGroup reports whether a line of the transcript is in a group
// ("alice@~room> hi").
func (c Conversation) InGroup() bool {
	for _, l := range c.Lines() {
		if m := TranscriptLine.FindStringSubmatch(l); m != nil && m[2] != "" {
			return true
		}
	}
	return false
}

// Scripts returns the names of its .bot files, sorted.
func (c Conversation) Scripts() []string {
	var out []string
	for name := range c.Files {
		if strings.HasSuffix(name, ".bot") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

package dsl

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	pb "botserver/proto"

	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite the expected parts of dsl/testdata/*.txt")

// A golden file is a txtar-like archive:
//
//	-- main.bot --        (or master.bot / group.bot: the role of the script)
//	dialog main do ... end
//	-- transcript --      inputs and the effects each must produce
//	> hello               a user message
//	< Hi!                 a say; <? is an ask; [a | b] are quick replies
//	-- error --           or: the exact compile error text
//
// Inputs: "> text", "! name [json] [from ADDR] [query ID]", "@start",
// "@wait 5s" (fires due timers in order), "@reply ID json", "@timeout ID".
// Every transcript runs twice: plainly, and with the state encoded to
// protobuf bytes and decoded again after every turn; both must match.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	checks, _ := filepath.Glob("testdata/check/*.txt")
	if err != nil || len(files) == 0 || len(checks) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range append(files, checks...) {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), ".txt"), func(t *testing.T) {
			runGolden(t, path)
		})
	}
}

type section struct{ name, body string }

func parseArchive(tb testing.TB, text string) []section {
	tb.Helper()
	var out []section
	for _, line := range strings.SplitAfter(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
			out = append(out, section{name: strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")})
			continue
		}
		if len(out) == 0 {
			continue // a leading comment
		}
		out[len(out)-1].body += line
	}
	return out
}

func runGolden(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secs := parseArchive(t, string(raw))
	if len(secs) < 2 {
		t.Fatalf("want a script section and a transcript or error section, got %d sections", len(secs))
	}
	last := secs[len(secs)-1]
	prog, cerr := compileArchive(t, secs[:len(secs)-1])
	var got string
	switch last.name {
	case "error":
		if cerr == nil {
			t.Fatalf("compiled, want error:\n%s", last.body)
		}
		got = cerr.Error() + "\n"
	case "transcript":
		if cerr != nil {
			t.Fatalf("compile: %v", cerr)
		}
		got = replay(t, prog, last.body, false)
		if again := replay(t, prog, last.body, true); again != got {
			t.Errorf("with a protobuf round trip after every turn the transcript differs:\n%s\nwant (without):\n%s", again, got)
		}
	default:
		t.Fatalf("unknown section %q", last.name)
	}
	if got != last.body {
		if *update {
			rewrite(t, path, secs, got)
			return
		}
		t.Errorf("%s: got:\n%s\nwant:\n%s", path, got, last.body)
	}
}

// compileArchive compiles the script section (its name gives its role)
// with the data file sections (NAME.json, NAME.yaml).
func compileArchive(t *testing.T, secs []section) (*Program, error) {
	files := map[string]string{}
	var script *section
	for i := range secs {
		if strings.HasSuffix(secs[i].name, ".bot") {
			script = &secs[i]
			continue
		}
		files[secs[i].name] = secs[i].body
	}
	if script == nil {
		t.Fatal("no script section")
	}
	data, hash, err := ParseData(files)
	if err != nil {
		return nil, err
	}
	role := map[string]Role{"main.bot": RoleSession, "master.bot": RoleMaster, "group.bot": RoleGroup}[script.name]
	return CompileWith(script.name, script.body, role, Options{Data: data, DataHash: hash})
}

func rewrite(t *testing.T, path string, secs []section, got string) {
	var b strings.Builder
	for i, s := range secs {
		body := s.body
		if i == len(secs)-1 {
			body = got
		}
		fmt.Fprintf(&b, "-- %s --\n%s", s.name, body)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sim drives one instance through a transcript.
type sim struct {
	tb        testing.TB
	prog      *Program
	m         *Machine
	st        *State
	env       *Env
	roundTrip bool
	out       strings.Builder
}

func newSim(tb testing.TB, prog *Program, roundTrip bool) *sim {
	r := rand.New(rand.NewPCG(1, 2))
	s := &sim{tb: tb, prog: prog, m: NewMachine(prog), st: NewState(), roundTrip: roundTrip}
	s.env = &Env{
		Now:  time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		Rand: r.Uint64, Self: "test:alice",
		User: map[string]any{"id": "alice", "name": "Alice", "channel": "test"},
		Bot:  map[string]any{"id": "bot", "title": "Bot"},
		ChatLink: func(platform, group string) (string, error) {
			return "http://chat.test/chat/bot?g=" + group, nil
		},
		Stopwatch: time.Now,
	}
	return s
}

func replay(tb testing.TB, prog *Program, transcript string, roundTrip bool) string {
	s := newSim(tb, prog, roundTrip)
	for _, line := range strings.Split(strings.TrimRight(transcript, "\n"), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			s.out.WriteString(line + "\n")
		case strings.HasPrefix(line, "> "), strings.HasPrefix(line, "! "), strings.HasPrefix(line, "@"):
			s.out.WriteString(line + "\n")
			s.input(line)
		}
	}
	return s.out.String()
}

func (s *sim) input(line string) {
	switch {
	case strings.HasPrefix(line, "> "):
		s.turn(Message(line[2:]))
	case strings.HasPrefix(line, "! "):
		s.turn(Input{Kind: InEvent, Event: parseEventLine(s.tb, line[2:])})
	case line == "@start":
		s.turn(Input{Kind: InStart})
	case strings.HasPrefix(line, "@wait "):
		d, err := time.ParseDuration(strings.TrimPrefix(line, "@wait "))
		if err != nil {
			s.tb.Fatalf("%s: %v", line, err)
		}
		s.wait(d)
	case strings.HasPrefix(line, "@reply "):
		id, js, _ := strings.Cut(strings.TrimPrefix(line, "@reply "), " ")
		s.turn(Input{Kind: InReply, QueryID: id, Value: parseJSON(s.tb, js)})
	case strings.HasPrefix(line, "@timeout "):
		s.turn(Input{Kind: InReply, QueryID: strings.TrimPrefix(line, "@timeout "), Timeout: true})
	default:
		s.tb.Fatalf("unknown input %q", line)
	}
}

// wait advances the clock by d, firing every timer that falls due.
func (s *sim) wait(d time.Duration) {
	end := s.env.Now.Add(d)
	for {
		timers := append([]Timer(nil), s.st.Timers...)
		sort.Slice(timers, func(i, j int) bool { return timers[i].At.Before(timers[j].At) })
		if len(timers) == 0 || timers[0].At.After(end) {
			break
		}
		s.env.Now = timers[0].At
		s.turn(Input{Kind: InTimer, Timer: timers[0].ID})
	}
	s.env.Now = end
}

func (s *sim) turn(in Input) {
	res := s.m.Turn(s.st, in, s.env)
	for _, e := range res.Effects {
		if line := renderEffect(e); line != "" {
			s.out.WriteString(line + "\n")
		}
	}
	if res.Err != nil {
		s.out.WriteString("error " + res.Err.Error() + "\n")
	}
	if s.roundTrip {
		b, err := Marshal(s.st)
		if err != nil {
			s.tb.Fatalf("marshal: %v", err)
		}
		checkWireCompat(s.tb, s.st, b, s.prog)
		if s.st, err = UnmarshalState(b, s.prog); err != nil {
			s.tb.Fatalf("unmarshal: %v", err)
		}
	}
}

// checkWireCompat checks the hand-written codec against the generated
// protobuf code in both directions.
func checkWireCompat(tb testing.TB, st *State, wire []byte, prog *Program) {
	tb.Helper()
	want, err := Encode(st)
	if err != nil {
		tb.Fatalf("Encode: %v", err)
	}
	var got pb.InstanceState
	if err := proto.Unmarshal(wire, &got); err != nil {
		tb.Fatalf("generated code cannot read AppendState's bytes: %v", err)
	}
	if !proto.Equal(&got, want) {
		tb.Fatalf("AppendState differs from Encode:\n got %v\nwant %v", &got, want)
	}
	viaGenerated, err := proto.Marshal(want)
	if err != nil {
		tb.Fatal(err)
	}
	back, err := UnmarshalState(viaGenerated, prog)
	if err != nil {
		tb.Fatalf("UnmarshalState of generated bytes: %v", err)
	}
	again, err := Encode(back)
	if err != nil {
		tb.Fatal(err)
	}
	if !proto.Equal(again, want) {
		tb.Fatalf("UnmarshalState of generated bytes differs:\n got %v\nwant %v", again, want)
	}
}

func renderEffect(e Effect) string {
	quick := ""
	if len(e.QuickReplies) > 0 {
		shown := slices.Clone(e.QuickReplies)
		for i, v := range e.QuickReplyValues {
			if v != shown[i] {
				shown[i] += " → " + v
			}
		}
		quick = " [" + strings.Join(shown, " | ") + "]"
	}
	switch e.Kind {
	case EffSay:
		if e.Ask {
			return "<? " + e.Text + quick
		}
		return "< " + e.Text + quick
	case EffShow:
		return "< image " + e.URL
	case EffTyping:
		return fmt.Sprintf("< typing %gs", e.Seconds)
	case EffEmit:
		return fmt.Sprintf("emit %s %s -> %s", e.Name, jsonOf(e.Payload), jsonOf(e.Target))
	case EffQuery:
		return fmt.Sprintf("query %s %s %s -> %s", e.QueryID, e.Name, jsonOf(e.Payload), jsonOf(e.Target))
	case EffReply:
		return fmt.Sprintf("reply %s to %s: %s", e.QueryID, e.To, jsonOf(e.Payload))
	case EffSpawnGroup:
		return fmt.Sprintf("spawn %s %s", e.Group, jsonOf(e.Payload))
	case EffLog:
		return fmt.Sprintf("log %s:%d: %s", e.Pos.File, e.Pos.Line, e.Text)
	}
	return "" // timers are checked through their effects on the transcript
}

func jsonOf(v any) string {
	if a, ok := v.(Atom); ok {
		return ":" + string(a)
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	if v == nil {
		return "nil"
	}
	return Format(v)
}

func parseJSON(tb testing.TB, js string) any {
	if js == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		tb.Fatalf("bad JSON %q: %v", js, err)
	}
	n, err := Normalize(v)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// parseEventLine reads `name [json] [from ADDR] [query ID]`.
func parseEventLine(tb testing.TB, s string) *Event {
	ev := &Event{}
	if i := strings.Index(s, " query "); i >= 0 {
		ev.QueryID = s[i+7:]
		s = s[:i]
	}
	if i := strings.Index(s, " from "); i >= 0 {
		ev.Sender = s[i+6:]
		s = s[:i]
	}
	name, js, _ := strings.Cut(s, " ")
	ev.Name, ev.Payload = name, parseJSON(tb, js)
	return ev
}

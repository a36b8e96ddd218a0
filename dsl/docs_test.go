package dsl

import (
	"botserver/internal/testkit/guide"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDocsExamples runs every conversation of docs/language.md that one
// user has with main.bot (with its data files) against the script shown
// before it, the way `botserver test` runs a transcript: pauses and query
// timeouts fire at once, @wait moves the clock. Examples with a master,
// groups or several users need the runtime and are left to its tests.
func TestDocsExamples(t *testing.T) {
	convs, err := guide.Conversations("../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	ran, skipped := 0, 0
	for _, c := range convs {
		if !slices.Equal(c.Scripts(), []string{"main.bot"}) || c.InGroup() || len(c.Users()) != 1 {
			skipped++
			continue
		}
		ran++
		t.Run("line"+strconv.Itoa(c.Line), func(t *testing.T) {
			runDocTranscript(t, c)
		})
	}
	t.Logf("%d examples run, %d left to the runtime's tests", ran, skipped)
	if ran < 10 {
		t.Errorf("only %d examples ran: has the guide's layout changed?", ran)
	}
}

// docSim runs one conversation of the guide.
type docSim struct {
	t     *testing.T
	s     *sim
	queue []string // texts sent and not yet expected
}

func (d *docSim) turn(in Input) {
	res := d.s.m.Turn(d.s.st, in, d.s.env)
	for _, e := range res.Effects {
		if e.Kind == EffSay {
			d.queue = append(d.queue, e.Text)
		}
	}
}

// settle fires pause, typing and query timers at once, as the runtime's
// transcripts do.
func (d *docSim) settle() {
	for {
		var next *Timer
		for i := range d.s.st.Timers {
			if tm := &d.s.st.Timers[i]; (tm.Kind == TimerResume || tm.Kind == TimerQuery) && (next == nil || tm.At.Before(next.At)) {
				next = tm
			}
		}
		if next == nil {
			return
		}
		if next.At.After(d.s.env.Now) {
			d.s.env.Now = next.At
		}
		d.turn(Input{Kind: InTimer, Timer: next.ID})
	}
}

// wait moves the clock on, firing every timer that falls due.
func (d *docSim) wait(dur time.Duration) {
	end := d.s.env.Now.Add(dur)
	for {
		timers := append([]Timer(nil), d.s.st.Timers...)
		sort.Slice(timers, func(i, j int) bool { return timers[i].At.Before(timers[j].At) })
		if len(timers) == 0 || timers[0].At.After(end) {
			break
		}
		d.s.env.Now = timers[0].At
		d.turn(Input{Kind: InTimer, Timer: timers[0].ID})
		d.settle()
	}
	d.s.env.Now = end
}

// expect checks the next message sent: exactly, or (regexp) a match.
func (d *docSim) expect(at int, want string, regexp bool) {
	d.t.Helper()
	if len(d.queue) == 0 {
		d.t.Fatalf("docs/language.md:%d: expected %q, but nothing more was sent", at, want)
	}
	got := d.queue[0]
	d.queue = d.queue[1:]
	if !regexp && got != want {
		d.t.Fatalf("docs/language.md:%d: got %q, want %q", at, got, want)
	}
	if regexp && !regexpMatch(want, got) {
		d.t.Fatalf("docs/language.md:%d: got %q, want a match for %s", at, got, want)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func runDocTranscript(t *testing.T, c guide.Conversation) {
	data, hash, err := ParseData(c.Files)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := CompileWith("main.bot", c.Files["main.bot"], RoleSession, Options{Data: data, DataHash: hash})
	if err != nil {
		t.Fatalf("the script before line %d does not compile:\n%v", c.Line, err)
	}
	d := &docSim{t: t, s: newSim(t, prog, false)}
	for i, l := range c.Lines() {
		d.line(c.Line+1+i, l)
	}
	if len(d.queue) > 0 {
		t.Fatalf("transcript at docs/language.md:%d: unexpected messages at the end: %q", c.Line, d.queue)
	}
}

// line runs one transcript line.
func (d *docSim) line(at int, l string) {
	m := guide.TranscriptLine.FindStringSubmatch(l)
	switch {
	case strings.HasPrefix(l, "# "):
	case strings.HasPrefix(l, "@wait "):
		dur, err := parseDurationString(strings.TrimPrefix(l, "@wait "))
		if err != nil {
			d.t.Fatalf("line %d: %v", at, err)
		}
		d.wait(dur)
	case m[3] == "+":
		d.turn(Input{Kind: InStart})
		d.settle()
	case m[3] == "> ":
		d.turn(Message(l[len(m[0]):]))
		d.settle()
	case m[3] == "! ":
		name, js, _ := strings.Cut(l[len(m[0]):], " ")
		var payload any
		if js != "" {
			if err := json.Unmarshal([]byte(js), &payload); err != nil {
				d.t.Fatalf("line %d: %v", at, err)
			}
			payload, _ = Normalize(payload)
		}
		d.turn(Input{Kind: InEvent, Event: &Event{Name: name, Payload: payload}})
		d.settle()
	default: // < and <~
		d.expect(at, l[len(m[0]):], m[3] == "<~ ")
	}
}

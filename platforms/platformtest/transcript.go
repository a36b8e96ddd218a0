package platformtest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
)

// Failure is a transcript line that did not hold.
type Failure struct {
	File string
	Line int
	Text string // the line
	Msg  string // what went wrong: expected vs got
	// Script: the line's turn hit a run-time error that __error__ did not
	// handle; Msg is the error with its script line and caret.
	Script bool
}

// String is "file:line: the line" and what went wrong below it, or for a
// run-time error "file:line: script error at main.bot:3:7: message" with
// the script's line and a caret below.
func (f Failure) String() string {
	if f.Script {
		return fmt.Sprintf("%s:%d: script error at %s", f.File, f.Line, indent(f.Msg))
	}
	return fmt.Sprintf("%s:%d: %s\n    %s", f.File, f.Line, f.Text, f.Msg)
}

// settleTimeout bounds the wall time a transcript waits for its bot to
// settle after a line (simulated time costs none).
const settleTimeout = 10 * time.Second

// Start is the simulated time every transcript begins at.
var Start = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// transcript runs one transcript file.
type transcript struct {
	file     string
	bot      string
	rt       *actors.Runtime
	clock    *actors.FakeClock
	p        *Platform
	queues   map[string][]botserver.Outgoing
	failures []Failure
	src      *dsl.Bot      // the scripts, for the lines of run-time errors
	errs     *scriptErrors // the runtime's unhandled run-time errors
}

// RunTranscript runs a transcript against bot with a fresh in-memory store
// and simulated time. It returns the lines that failed; err is for setup
// problems (the store, the bot) and lines it cannot parse.
func RunTranscript(bot *dsl.Bot, file, text string) ([]Failure, error) {
	db, err := persistence.Open(persistence.Options{InMemory: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	t := &transcript{file: file, bot: "bot", clock: actors.NewFakeClock(Start), p: New(), queues: map[string][]botserver.Outgoing{},
		src: bot, errs: &scriptErrors{}}
	rng := rand.New(rand.NewPCG(7, 11))
	t.rt, err = actors.NewRuntime(actors.Options{
		Store: db, Clock: t.clock, IdleAfter: -1, Rand: rng.Uint64, Coordinators: coordinators.Kinds(),
		ChatLink: coordinators.ChatLink("http://127.0.0.1:8080"), Logger: slog.New(t.errs),
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		defer cancel()
		t.rt.Close(ctx)
	}()
	t.rt.RegisterPlatform(Name, t.p)
	if err := t.rt.AddBot(context.Background(), t.bot, bot); err != nil {
		return nil, err
	}
	for i, line := range strings.Split(text, "\n") {
		err := t.line(i+1, strings.TrimRight(line, "\r"))
		t.scriptFailures(i+1, line)
		if err != nil {
			return t.failures, fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
	}
	t.leftovers(strings.Count(text, "\n") + 1)
	return t.failures, nil
}

var linePattern = regexp.MustCompile(`^([A-Za-z0-9_]+)(@~[A-Za-z0-9_-]+)?(>|<~|<|!|\+$) ?(.*)$`)

func (t *transcript) line(n int, line string) error {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return nil
	}
	if strings.HasPrefix(trimmed, "@wait ") {
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(trimmed, "@wait ")))
		if err != nil {
			return fmt.Errorf("@wait: %v", err)
		}
		return t.wait(d)
	}
	m := linePattern.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("cannot read %q (want user+, user> text, user< text, user<~ regexp, user! event {json} or @wait 5m)", line)
	}
	user, group, op, rest := m[1], strings.TrimPrefix(m[2], "@"), m[3], m[4]
	conv := Conv(t.bot, user, group)
	switch op {
	case "+": // opened without a message, as a web client does on connect
		return t.send(n, line, conv, botserver.Inbound{Start: true, Name: user})
	case ">":
		return t.send(n, line, conv, botserver.Inbound{Text: rest, Name: user})
	case "!":
		name, js, _ := strings.Cut(rest, " ")
		var payload any
		if strings.TrimSpace(js) != "" {
			if err := json.Unmarshal([]byte(js), &payload); err != nil {
				return fmt.Errorf("event payload: %v", err)
			}
		}
		return t.send(n, line, conv, botserver.Inbound{Event: name, Payload: payload, Name: user})
	default:
		t.expect(n, line, conv.Address(), op == "<~", rest)
		return nil
	}
}

func (t *transcript) send(n int, line string, conv botserver.Conversation, in botserver.Inbound) error {
	if err := t.rt.Deliver(conv, in); err != nil {
		t.fail(n, line, fmt.Sprintf("cannot deliver: %v", err))
		return nil
	}
	return t.settle()
}

// settle lets the bot finish: every actor idle, with the simulated clock
// advanced to pause, type and query timers as far as needed (they cost no
// wall time).
func (t *transcript) settle() error {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	for {
		if err := t.rt.Settle(ctx); err != nil {
			return err
		}
		t.collect()
		next, ok := t.rt.Timers().NextAutomatic()
		if !ok {
			return nil
		}
		t.clock.AdvanceTo(next)
	}
}

// wait advances the simulated clock by d, firing timers in order.
func (t *transcript) wait(d time.Duration) error {
	end := t.clock.Now().Add(d)
	for {
		next, ok := t.clock.Next()
		if !ok || next.After(end) {
			break
		}
		t.clock.AdvanceTo(next)
		if err := t.settle(); err != nil {
			return err
		}
	}
	t.clock.AdvanceTo(end)
	return t.settle()
}

func (t *transcript) collect() {
	for addr := range t.p.Pending() {
		for _, out := range t.p.Take(addr) {
			if text, ok := render(out); ok {
				t.queues[addr] = append(t.queues[addr], botserver.Outgoing{Text: text})
			}
		}
	}
}

// render is how a message reads in a transcript; typing and events are not
// messages.
func render(out botserver.Outgoing) (string, bool) {
	switch out.Kind {
	case botserver.OutText:
		return out.Text, true
	case botserver.OutImage:
		return "image: " + out.URL, true
	}
	return "", false
}

func (t *transcript) expect(n int, line, addr string, isRegexp bool, want string) {
	q := t.queues[addr]
	if len(q) == 0 {
		t.fail(n, line, fmt.Sprintf("expected %q, got no message", want))
		return
	}
	got := q[0].Text
	t.queues[addr] = q[1:]
	if !isRegexp {
		if got != want {
			t.fail(n, line, fmt.Sprintf("expected %q\n    got      %q", want, got))
		}
		return
	}
	re, err := regexp.Compile(want)
	if err != nil {
		t.fail(n, line, fmt.Sprintf("bad regular expression: %v", err))
		return
	}
	if !re.MatchString(got) {
		t.fail(n, line, fmt.Sprintf("expected a match of %s\n    got %q", want, got))
	}
}

// leftovers reports messages nobody expected.
func (t *transcript) leftovers(last int) {
	for addr, q := range t.queues {
		for _, m := range q {
			t.fail(last, "(end)", fmt.Sprintf("%s received an unexpected message %q", addr, m.Text))
		}
	}
}

func (t *transcript) fail(n int, line, msg string) {
	t.failures = append(t.failures, Failure{File: t.file, Line: n, Text: line, Msg: msg})
}

package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"botserver"
)

// Name is the platform of console conversations ("console:me").
const Name = "console"

// Gateway is what the console needs of the runtime; *actors.Runtime
// implements it.
type Gateway interface {
	// Deliver hands the user's message to the conversation; see
	// botserver.Gateway for its errors.
	Deliver(conv botserver.Conversation, in botserver.Inbound) error
	// Settle returns when no message or write is in flight, or ctx ends.
	Settle(ctx context.Context) error
}

// Platform prints what bots send to one terminal. It is safe for
// concurrent use.
type Platform struct {
	mu      sync.Mutex
	out     io.Writer
	replies []string // the quick replies last shown, numbered from 1
	// Prompt, if set, is printed before each line Run reads (set it
	// before Run).
	Prompt string
}

// New returns a console that writes to out.
func New(out io.Writer) *Platform { return &Platform{out: out} }

// Send prints a bot's message; it implements botserver.Platform.
func (p *Platform) Send(_ botserver.Conversation, out botserver.Outgoing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch out.Kind {
	case botserver.OutText:
		fmt.Fprintf(p.out, "bot: %s\n", out.Text)
		p.replies = out.QuickReplies
		if len(out.QuickReplyValues) == len(out.QuickReplies) {
			p.replies = out.QuickReplyValues // a number sends the reply's value
		}
		if len(out.QuickReplies) > 0 {
			var b strings.Builder
			for i, q := range out.QuickReplies {
				fmt.Fprintf(&b, "  [%d] %s", i+1, q)
			}
			fmt.Fprintf(p.out, "    %s\n", strings.TrimSpace(b.String()))
		}
	case botserver.OutImage:
		fmt.Fprintf(p.out, "bot: [image] %s\n", out.URL)
	case botserver.OutTyping:
		fmt.Fprintln(p.out, "bot is typing…")
	case botserver.OutEvent:
		payload, err := json.Marshal(out.Payload)
		if err != nil {
			payload = []byte(fmt.Sprint(out.Payload))
		}
		fmt.Fprintf(p.out, "bot: (event %s %s)\n", out.Name, payload)
	case botserver.OutError:
		fmt.Fprintf(p.out, "(error %s: %s)\n", out.Code, out.Text)
	case botserver.OutRestart:
		p.replies = nil
		fmt.Fprintln(p.out, "(the conversation starts again)")
	}
}

// Run reads lines from in and delivers them to conv until in ends, the
// user types /quit, or ctx ends; /restart starts the conversation again. It opens the conversation first (the
// bot greets), and waits for the bot to settle after every line.
func (p *Platform) Run(ctx context.Context, in io.Reader, gw Gateway, conv botserver.Conversation) error {
	if err := p.deliver(ctx, gw, conv, botserver.Inbound{Start: true, Name: conv.User}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for p.prompt() && sc.Scan() && ctx.Err() == nil {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if line == "/quit" {
			return nil
		}
		msg, err := p.parse(line)
		if line == "/restart" {
			msg, err = botserver.Inbound{Restart: true}, nil
		}
		if err != nil {
			p.print("console: %v\n", err)
			continue
		}
		msg.Name = conv.User
		if err := p.deliver(ctx, gw, conv, msg); errors.Is(err, botserver.ErrBadPayload) {
			p.print("console: %v\n", err)
		} else if err != nil {
			return err
		}
	}
	if p.Prompt != "" {
		p.print("\n") // the input ended after a prompt
	}
	return sc.Err()
}

// prompt prints the prompt, if any; it returns true.
func (p *Platform) prompt() bool {
	if p.Prompt != "" {
		p.print("%s", p.Prompt)
	}
	return true
}

// parse turns a line into a message: a quick reply's number, an event, or
// text.
func (p *Platform) parse(line string) (botserver.Inbound, error) {
	if rest, ok := strings.CutPrefix(line, "/event "); ok {
		name, raw, _ := strings.Cut(strings.TrimSpace(rest), " ")
		var payload any
		if raw = strings.TrimSpace(raw); raw != "" {
			if err := json.Unmarshal([]byte(raw), &payload); err != nil {
				return botserver.Inbound{}, fmt.Errorf("the payload of /event is not JSON: %v", err)
			}
		}
		return botserver.Inbound{Event: name, Payload: payload}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(p.replies) {
		return botserver.Inbound{Text: p.replies[n-1]}, nil
	}
	return botserver.Inbound{Text: line}, nil
}

func (p *Platform) deliver(ctx context.Context, gw Gateway, conv botserver.Conversation, msg botserver.Inbound) error {
	if err := gw.Deliver(conv, msg); err != nil {
		return err
	}
	return gw.Settle(ctx)
}

func (p *Platform) print(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, args...)
}

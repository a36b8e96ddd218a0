package slack

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"botserver"

	"github.com/slack-go/slack"
)

// outgoing is a bot message waiting on its conversation's lane.
type outgoing struct {
	bot                   string
	team, channel, thread string
	addr                  string
	msg                   botserver.Outgoing
}

// Send queues a bot's message for its conversation; it implements
// botserver.Platform and never blocks. Messages of one conversation are
// posted in order, each conversation independently. Typing indicators and
// emitted events have no Slack form and are skipped; a message for an
// address that is not a Slack one, or beyond maxQueue waiting in its
// conversation, is dropped with a warning.
func (p *Platform) Send(conv botserver.Conversation, out botserver.Outgoing) {
	if out.Kind == botserver.OutTyping || out.Kind == botserver.OutEvent ||
		(out.Kind == botserver.OutText && out.Text == "" && len(out.QuickReplies) == 0) {
		p.log.Debug("skipped a message Slack cannot show", "bot", conv.Bot, "conv", conv.Address(), "kind", out.Kind, "name", out.Name)
		return
	}
	parts := strings.Split(conv.User, ":")
	if len(parts) != 3 || p.ctx.Err() != nil {
		p.stats.dropped.Add(1)
		p.log.Warn("dropped a message for an address that is not Slack's, or after shutdown", "bot", conv.Bot, "conv", conv.Address())
		return
	}
	o := outgoing{bot: conv.Bot, team: parts[0], channel: parts[1], addr: conv.Address(), msg: out}
	if b := p.bot(conv.Bot); b != nil {
		o.thread = b.thread(o.addr)
	}
	if !p.out.push(conv.Bot+"\x00"+o.addr, o) {
		p.stats.dropped.Add(1)
		p.log.Warn("too many messages queued for one conversation; dropped one", "bot", conv.Bot, "team", o.team, "conv", o.addr)
	}
}

// post sends one message with chat.postMessage on its lane's goroutine.
// On HTTP 429 it waits Retry-After (at most maxRetryAfter) and retries the
// same message, up to maxRateRetries times. When Slack refuses the token,
// the stored installation is read again and, if another member stored a
// new token meanwhile, the message is posted with it. Any other error is
// logged with Slack's error code, counted, and the message dropped.
func (p *Platform) post(o outgoing) {
	b := p.bot(o.bot)
	var in *installation
	if b != nil {
		in = b.installation(o.team)
	}
	if in == nil {
		p.stats.dropped.Add(1)
		p.log.Warn("dropped a message for a workspace the bot is not installed in", "bot", o.bot, "team", o.team, "conv", o.addr)
		return
	}
	opts := messageOptions(o)
	for attempt := 1; ; attempt++ {
		_, _, err := in.client.PostMessageContext(p.ctx, o.channel, opts...)
		if err == nil {
			p.stats.posted.Add(1)
			return
		}
		if wait, limited := retryAfter(err); limited && attempt <= maxRateRetries {
			p.stats.rateLimited.Add(1)
			b.log.Info("rate limited by Slack; waiting", "team", o.team, "conv", o.addr, "retry_after", wait)
			if sleep(p.ctx, wait) {
				continue
			}
		}
		code := errorCode(err)
		if permanent(code) && !in.fromConfig {
			// another member may have installed the workspace again (or
			// uninstalled it): the stored installation is the truth
			if again := b.reload(o.team, in.BotToken); again != nil {
				in = again
				continue
			}
		}
		p.stats.apiError(code)
		b.log.Warn("chat.postMessage failed; message dropped", "team", o.team, "conv", o.addr, "slack_error", code, "err", err)
		return
	}
}

// retryAfter reports whether err is Slack's HTTP 429, and how long to
// wait: Retry-After (at most maxRetryAfter), or a second without one.
func retryAfter(err error) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return min(rl.RetryAfter, maxRetryAfter), true
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		return time.Second, true
	}
	return 0, false
}

// messageOptions renders a bot message: text (escaped, so it shows as
// written), quick replies as Block Kit buttons, an image as an image
// block; in the thread the user last wrote in.
func messageOptions(o outgoing) []slack.MsgOption {
	m := o.msg
	var opts []slack.MsgOption
	switch {
	case m.Kind == botserver.OutImage:
		opts = append(opts, slack.MsgOptionText(m.URL, false),
			slack.MsgOptionBlocks(slack.NewImageBlock(m.URL, "image", "", nil)))
	case len(m.QuickReplies) > 0:
		opts = append(opts, slack.MsgOptionText(m.Text, true), slack.MsgOptionBlocks(quickReplyBlocks(m.Text, m.QuickReplies, m.QuickReplyValues)...))
	default:
		opts = append(opts, slack.MsgOptionText(m.Text, true))
	}
	if o.thread != "" {
		opts = append(opts, slack.MsgOptionTS(o.thread))
	}
	return opts
}

// Block Kit limits.
const (
	maxSectionText = 3000
	maxButtonText  = 75
	maxButtonValue = 2000
	maxButtons     = 25 // per actions block
	maxActions     = 10 // actions blocks per message (Slack allows 50 blocks)
)

// quickReplyBlocks is the text as a section and the replies as buttons
// whose value is what the reply sends: its value when values are given
// (parallel to replies), else its label.
func quickReplyBlocks(text string, replies, values []string) []slack.Block {
	var blocks []slack.Block
	if text != "" {
		blocks = append(blocks, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.PlainTextType, truncate(text, maxSectionText), false, false), nil, nil))
	}
	replies = replies[:min(len(replies), maxButtons*maxActions)]
	for start := 0; start < len(replies); start += maxButtons {
		var buttons []slack.BlockElement
		for i := start; i < min(start+maxButtons, len(replies)); i++ {
			label := slack.NewTextBlockObject(slack.PlainTextType, truncate(replies[i], maxButtonText), false, false)
			id := quickReplyPrefix + strconv.Itoa(i)
			value := replies[i]
			if len(values) == len(replies) {
				value = values[i]
			}
			buttons = append(buttons, slack.NewButtonBlockElement(id, truncate(value, maxButtonValue), label))
		}
		blocks = append(blocks, slack.NewActionBlock("botserver_qr_"+strconv.Itoa(start/maxButtons), buttons...))
	}
	return blocks
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// errorCode names an error for logs and counters: Slack's error code
// ("channel_not_found"), "http_<status>", "rate_limited" or "transport".
func errorCode(err error) string {
	var se slack.SlackErrorResponse
	var sc slack.StatusCodeError
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &se):
		return se.Err
	case errors.As(err, &sc):
		return "http_" + strconv.Itoa(sc.Code)
	case errors.As(err, &rl):
		return "rate_limited"
	}
	return "transport"
}

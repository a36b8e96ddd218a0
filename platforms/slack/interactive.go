package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
)

// Quick-reply buttons carry action ids "qr_<n>" and the reply as value.
const quickReplyPrefix = "qr_"

// serveInteractive answers POST /slack/{bot}/interactive (signed like
// events): a click on a quick-reply button becomes the user's text.
func (p *Platform) serveInteractive(w http.ResponseWriter, r *http.Request) {
	b, body := p.signedRequest(w, r)
	if b == nil {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "missing payload", http.StatusBadRequest)
		return
	}
	if !p.interact(b, []byte(form.Get("payload"))) {
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// interact handles an interaction payload (HTTP or Socket Mode); it
// reports whether the payload was well-formed.
func (p *Platform) interact(b *bot, payload []byte) bool {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return false
	}
	p.stats.interactions.Add(1)
	if cb.Type != slack.InteractionTypeBlockActions {
		b.log.Debug("ignored an interaction", "team", cb.Team.ID, "type", cb.Type)
		return true
	}
	for _, a := range b.classifyActions(&cb, payload) {
		key, run := p.task(b, a, nil)
		if !p.in.push(key, run) {
			p.stats.dropped.Add(1)
			b.log.Warn("too many events queued for one conversation; dropped a click", "team", a.team)
		}
	}
	return true
}

// classifyActions: a quick-reply click is the user's text (in the thread
// of the message clicked); other block actions are "slack_block_actions"
// client events when a script handles them.
func (b *bot) classifyActions(cb *slack.InteractionCallback, payload []byte) []action {
	team, channel, user := cb.Team.ID, cb.Channel.ID, cb.User.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	if team == "" {
		team = cb.User.TeamID
	}
	var out []action
	for _, ba := range cb.ActionCallback.BlockActions {
		if !strings.HasPrefix(ba.ActionID, quickReplyPrefix) {
			continue
		}
		thread := cb.Container.ThreadTs
		if thread == "" {
			thread = cb.Message.ThreadTimestamp
		}
		if a := userMessage(team, channel, user, ba.Value, thread); a.kind != actNone {
			out = append(out, a)
		}
	}
	if len(out) == 0 && b.handles("block_actions") {
		var m map[string]any
		if json.Unmarshal(payload, &m) == nil {
			if a := b.eventFor(team, channel, user, "block_actions", m); a.kind != actNone {
				out = append(out, a)
			}
		}
	}
	return out
}

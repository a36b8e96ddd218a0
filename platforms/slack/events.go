package slack

import (
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"botserver"

	"github.com/slack-go/slack/slackevents"
)

// envelope is the outer part of an Events API request (or of a Socket
// Mode events_api payload).
type envelope struct {
	Type           string          `json:"type"`
	Challenge      string          `json:"challenge"`
	TeamID         string          `json:"team_id"`
	EventID        string          `json:"event_id"`
	Event          json.RawMessage `json:"event"`
	Authorizations []struct {
		UserID string `json:"user_id"`
		IsBot  bool   `json:"is_bot"`
	} `json:"authorizations"`
}

// serveEvents answers POST /slack/{bot}/events: it verifies the
// signature, answers url_verification, and answers an event once its
// input is durable (acknowledged: Slack will not send it again), or 503
// when that takes longer than Options.AckWait or the event could not be
// taken (Slack sends it again, and the copy is dropped if the first
// arrives after all).
func (p *Platform) serveEvents(w http.ResponseWriter, r *http.Request) {
	b, body := p.signedRequest(w, r)
	if b == nil {
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return
	}
	switch env.Type {
	case slackevents.URLVerification:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"challenge": env.Challenge})
		return
	case slackevents.CallbackEvent:
		retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
		if retry > 0 {
			b.log.Debug("Slack retried an event", "event", env.EventID, "retry", retry, "reason", r.Header.Get("X-Slack-Retry-Reason"))
		}
		if !p.accept(b, &env, body, retry).wait(r.Context(), p.opts.AckWait) {
			p.stats.notAcked.Add(1)
			http.Error(w, "the event is not taken yet; send it again", http.StatusServiceUnavailable)
			return
		}
	case slackevents.AppRateLimited:
		b.log.Warn("Slack is rate limiting this app's events", "team", env.TeamID)
	}
	w.WriteHeader(http.StatusOK)
}

// accept handles an event_callback once per event id: it classifies the
// event now and queues its delivery on the conversation's lane. The
// handling it returns settles once the event's input is durable (or the
// event asks for nothing), or fails when it could not be queued; a copy of
// an event in flight here gets the first's handling, one already handled
// a settled one. The delivery carries an input id made from the event id,
// so the conversation drops a copy that another member delivered too.
// retry is Slack's count of earlier sends of the event.
func (p *Platform) accept(b *bot, env *envelope, raw []byte, retry int) *handling {
	p.stats.events.Add(1)
	h, fresh := b.claim(env.EventID)
	if !fresh {
		p.stats.deduplicated.Add(1)
		b.log.Debug("dropped a duplicate event", "team", env.TeamID, "event", env.EventID)
		return h
	}
	a := b.classify(env, raw)
	a.eventID, a.lastTry = env.EventID, retry >= slackRetries
	if a.kind == actNone {
		h.settle(true)
		b.mark(env.EventID)
		return h
	}
	key, run := p.task(b, a, h)
	if !p.in.push(key, run) {
		p.stats.dropped.Add(1)
		b.log.Warn("too many events queued for one conversation; dropped one", "team", env.TeamID, "event", env.EventID)
		b.release(env.EventID)
		h.settle(false)
	}
	return h
}

// inputID is the input id of Slack event eventID: the same on every
// member, never 0 ("" has none).
func inputID(eventID string) uint64 {
	if eventID == "" {
		return 0
	}
	f := fnv.New64a()
	f.Write([]byte("slack\x00" + eventID))
	return max(f.Sum64()&^(1<<63), 1)
}

// actionKind says what an event asks of the platform.
type actionKind uint8

const (
	actNone      actionKind = iota // ignore
	actMessage                     // a user message
	actEvent                       // a client event a script handles
	actUninstall                   // forget the team's installation
)

// action is what to do about one Slack event or interaction.
type action struct {
	kind                actionKind
	team, channel, user string
	text, thread, why   string
	event               string
	payload             map[string]any
	keepThread          bool   // a user message: remember its thread
	eventID             string // the Events API event it came from ("" for an interaction)
	lastTry             bool   // Slack will not send the event again
}

// slackRetries is how often Slack sends an event again that was not
// acknowledged (Events API and Socket Mode alike).
const slackRetries = 3

func (a action) conv(bot string) botserver.Conversation {
	return botserver.Conversation{Bot: bot, Platform: Name, User: a.team + ":" + a.channel + ":" + a.user}
}

// task returns the lane key and the work of an action (not actNone); h
// (nil for an interaction) settles when its input is durable.
func (p *Platform) task(b *bot, a action, h *handling) (key string, run func()) {
	settled := func(ok bool) {
		switch {
		case h == nil:
		case !ok:
			// the claim goes before the refusal is answered: Slack's next
			// send must not find it
			b.release(a.eventID)
			h.settle(false)
		case h.settle(true):
			// the dedup mark, on the lane: Done must not block; a full lane
			// gets none (the conversation's input ids still drop a copy)
			if !p.in.push(key, func() { b.mark(a.eventID) }) {
				b.release(a.eventID)
			}
		}
	}
	switch a.kind {
	case actUninstall:
		key = b.id + "\x00team:" + a.team
		return key, func() { b.uninstall(a.team, a.why); settled(true) }
	default:
		conv := a.conv(b.id)
		key = b.id + "\x00" + conv.Address()
		return key, func() { p.deliver(b, conv, a, settled) }
	}
}

// deliver hands a message or event to the conversation; settled is
// called once its input is durable, or refused.
func (p *Platform) deliver(b *bot, conv botserver.Conversation, a action, settled func(ok bool)) {
	in := botserver.Inbound{Text: a.text}
	if a.kind == actEvent {
		in = botserver.Inbound{Event: a.event, Payload: a.payload}
	} else if a.keepThread {
		b.setThread(conv.Address(), a.thread)
	}
	if a.eventID != "" { // an interaction has neither: it is not sent again
		in.ID, in.Done = inputID(a.eventID), func() { settled(true) }
	}
	if err := p.opts.Gateway.Deliver(conv, in); err != nil {
		b.log.Warn("cannot deliver a Slack message", "team", a.team, "conv", conv.Address(), "err", err)
		if errors.Is(err, botserver.ErrUnavailable) && a.eventID != "" && !a.lastTry {
			// not taken now (the store refuses writes, or this member of a
			// cluster is cut off): Slack sends it again, maybe to another
			// member; the user is told only if it was Slack's last try
			settled(false)
			return
		}
		switch { // the user is told, as on the web
		case errors.Is(err, botserver.ErrQuarantined):
			p.Send(conv, botserver.Outgoing{Kind: botserver.OutError, Code: botserver.CodeQuarantined,
				Text: "This conversation was stopped after repeated failures; it answers again once an operator releases it."})
		case errors.Is(err, botserver.ErrUnavailable):
			p.Send(conv, botserver.Outgoing{Kind: botserver.OutError, Code: botserver.CodeUnavailable,
				Text: "The server cannot take messages right now; please try again later."})
		}
		settled(true) // answered: a copy would be refused the same way
		return
	}
	p.stats.delivered.Add(1)
}

// classify decides what an event_callback asks for: a user message (a DM,
// or a mention in a channel), a client event (edits, joins, bot messages
// and every other event, when a script handles it), an uninstall, or
// nothing.
func (b *bot) classify(env *envelope, raw []byte) action {
	ev, err := slackevents.ParseEvent(raw, slackevents.OptionNoVerifyToken())
	if err != nil { // an event slack-go does not know: still a client event
		return b.clientEvent(env.TeamID, typeOf(env.Event), env.Event)
	}
	self, selfBot := b.botUser(env.TeamID)
	if self == "" {
		for _, a := range env.Authorizations {
			if a.IsBot {
				self = a.UserID
			}
		}
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		switch {
		case e.User == self || (selfBot != "" && e.BotID == selfBot):
			return action{} // the bot mentioning itself
		case e.BotID != "":
			return b.clientEvent(env.TeamID, "bot_message", env.Event)
		}
		return userMessage(env.TeamID, e.Channel, e.User, stripMention(e.Text, self), e.ThreadTimeStamp)
	case *slackevents.MessageEvent:
		return b.classifyMessage(env, e, self, selfBot)
	case *slackevents.AppUninstalledEvent:
		return action{kind: actUninstall, team: env.TeamID, why: "app_uninstalled"}
	case *slackevents.TokensRevokedEvent:
		if len(e.Tokens.Bot) > 0 && (self == "" || slices.Contains(e.Tokens.Bot, self)) {
			return action{kind: actUninstall, team: env.TeamID, why: "tokens_revoked"}
		}
		return action{}
	}
	return b.clientEvent(env.TeamID, ev.InnerEvent.Type, env.Event)
}

// userSubtypes are message subtypes that are still a user writing.
var userSubtypes = map[string]bool{"": true, "file_share": true, "thread_broadcast": true, "me_message": true}

// classifyMessage: a DM from a user is a user message; the bot's own
// messages are dropped; the rest (edits, joins, other bots, channel chatter
// that does not mention the bot) are client events.
func (b *bot) classifyMessage(env *envelope, e *slackevents.MessageEvent, self, selfBot string) action {
	switch {
	case self != "" && e.User == self, selfBot != "" && e.BotID == selfBot,
		e.Message != nil && selfBot != "" && e.Message.BotID == selfBot:
		return action{} // our own message (or an edit of one): never an input
	case !userSubtypes[e.SubType]:
		return b.clientEvent(env.TeamID, e.SubType, env.Event)
	case e.BotID != "":
		return b.clientEvent(env.TeamID, "bot_message", env.Event)
	case e.ChannelType != slackevents.ChannelTypeIM:
		return b.clientEvent(env.TeamID, "channel_message", env.Event)
	}
	return userMessage(env.TeamID, e.Channel, e.User, unescape(e.Text), e.ThreadTimeStamp)
}

func userMessage(team, channel, user, text, thread string) action {
	if team == "" || channel == "" || user == "" {
		return action{}
	}
	return action{kind: actMessage, team: team, channel: channel, user: user, text: text, thread: thread, keepThread: true}
}

// clientEvent makes "slack_<kind>" an event of the conversation of the
// event's channel and user, if a script handles it.
func (b *bot) clientEvent(team, kind string, inner json.RawMessage) action {
	if !b.handles(kind) {
		return action{}
	}
	var payload map[string]any
	if err := json.Unmarshal(inner, &payload); err != nil {
		return action{}
	}
	channel, user := owner(payload)
	return b.eventFor(team, channel, user, kind, payload)
}

// handles reports whether a script handles the client event "slack_<kind>".
func (b *bot) handles(kind string) bool {
	return kind != "" && b.p.opts.Gateway.HandlesEvent(b.id, "slack_"+kind)
}

// eventFor is the client event "slack_<kind>" for the conversation of
// team, channel and user.
func (b *bot) eventFor(team, channel, user, kind string, payload map[string]any) action {
	if team == "" || channel == "" || user == "" {
		b.log.Debug("an event with no team, channel or user is not delivered", "team", team, "event", kind)
		return action{}
	}
	return action{kind: actEvent, team: team, channel: channel, user: user, event: "slack_" + kind, payload: payload}
}

// owner finds the channel and user an event is about: top-level "channel"
// and "user", else those of its "message" or "item".
func owner(m map[string]any) (channel, user string) {
	channel, _ = m["channel"].(string)
	user, _ = m["user"].(string)
	for _, k := range []string{"message", "item"} {
		sub, _ := m[k].(map[string]any)
		if channel == "" {
			channel, _ = sub["channel"].(string)
		}
		if user == "" {
			user, _ = sub["user"].(string)
		}
	}
	return channel, user
}

// typeOf returns an inner event's "type".
func typeOf(inner json.RawMessage) string {
	var t struct {
		Type string `json:"type"`
	}
	json.Unmarshal(inner, &t)
	return t.Type
}

// stripMention removes mentions of the bot (or, when its user id is not
// known, a leading mention) from a message's text.
func stripMention(text, self string) string {
	if self != "" {
		text = strings.ReplaceAll(text, "<@"+self+">", "")
	} else if strings.HasPrefix(text, "<@") {
		if i := strings.IndexByte(text, '>'); i > 0 {
			text = text[i+1:]
		}
	}
	return unescape(strings.TrimSpace(text))
}

// unescape undoes Slack's escaping of &, < and > in message text.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

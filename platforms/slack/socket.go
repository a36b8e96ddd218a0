package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"botserver"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Receiver returns bot id's Socket Mode connection, for the runtime to run
// under the bot's supervisor (actors.Runtime.AddReceiver), which restarts
// it when it fails. ok is false when the bot has no app token (or no Slack
// app here).
func (p *Platform) Receiver(id string) (r botserver.Receiver, ok bool) {
	if b := p.bot(id); b == nil || b.cfg.AppToken == "" {
		return nil, false
	}
	return socketReceiver{p: p, id: id}, true
}

// socketReceiver is a bot's Socket Mode connection.
type socketReceiver struct {
	p  *Platform
	id string
}

// Run keeps a Socket Mode client of the bot's current app token up until
// ctx ends, the bot is removed or the platform shuts down (it then returns
// nil); a bot added again is reconnected with its new token. It returns the
// client's error when the client gives up (Slack refuses the app token, or
// a panic). slack-go's client reconnects by itself before that.
func (s socketReceiver) Run(ctx context.Context) error {
	if !s.p.track() {
		return nil
	}
	defer s.p.wg.Done()
	var last *bot
	for ctx.Err() == nil {
		b := s.p.bot(s.id)
		if b == nil || b == last || b.cfg.AppToken == "" || s.p.isClosing() {
			return nil
		}
		last = b
		if err := s.p.runSocket(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// track counts a Socket Mode run for Shutdown to wait for; it reports false
// once the platform is shutting down.
func (p *Platform) track() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.wg.Add(1)
	return true
}

// runSocket runs one Socket Mode client until it fails (its error), or
// outer ends or the bot stops (nil).
func (p *Platform) runSocket(outer context.Context, b *bot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	p.stats.socketRuns.Add(1)
	api := slack.New("", slack.OptionAppLevelToken(b.cfg.AppToken),
		slack.OptionAPIURL(b.cfg.APIURL), slack.OptionHTTPClient(p.opts.HTTPClient))
	sm := socketmode.New(api, socketmode.OptionLog(debugLog{b.log}))
	ctx, cancel := context.WithCancel(outer)
	defer cancel()
	defer context.AfterFunc(b.ctx, cancel)()
	done := make(chan struct{})
	var acks sync.WaitGroup // envelopes waiting for their input to be durable
	go func() {
		defer close(done)
		defer cancel() // when the handler gives up, the run ends too
		p.consumeSocket(ctx, b, sm, &acks)
	}()
	err = sm.RunContext(ctx)
	cancel()
	<-done
	acks.Wait()
	switch {
	case outer.Err() != nil || b.ctx.Err() != nil:
		return nil
	case err == nil || errors.Is(err, context.Canceled):
		return errSocketHandler
	}
	return err
}

// errSocketHandler: the Socket Mode event handler stopped (a panic).
var errSocketHandler = errors.New("slack: the Socket Mode event handler stopped")

// consumeSocket handles the client's events until ctx ends.
func (p *Platform) consumeSocket(ctx context.Context, b *bot, sm *socketmode.Client, acks *sync.WaitGroup) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("panic handling a Socket Mode event", "panic", r)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-sm.Events:
			p.socketEvent(ctx, b, sm, evt, acks)
		}
	}
}

// socketEvent acknowledges and handles events and interactions, and logs
// the connection's life.
func (p *Platform) socketEvent(ctx context.Context, b *bot, sm *socketmode.Client, evt socketmode.Event, acks *sync.WaitGroup) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive:
		p.socketRequest(ctx, b, sm, evt.Request, acks)
	case socketmode.EventTypeErrorBadMessage:
		// slack-go cannot parse events of types it does not know; they
		// still need an ack, and may be client events.
		var req socketmode.Request
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok && json.Unmarshal(bad.Message, &req) == nil && req.EnvelopeID != "" {
			p.socketRequest(ctx, b, sm, &req, acks)
			return
		}
		b.log.Warn("unreadable Socket Mode message", "data", evt.Data)
	case socketmode.EventTypeConnected:
		b.log.Info("Socket Mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		b.log.Warn("Socket Mode connection error", "data", evt.Data)
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("Slack refuses the app token (app_token)")
	}
}

// socketRequest hands a request's payload to the same code as the HTTP
// routes. An interaction is acknowledged at once; an event once its input
// is durable, as over HTTP: one not durable within Options.AckWait (or
// not taken) is left unacknowledged, and Slack sends it again, maybe to
// another member's connection.
func (p *Platform) socketRequest(ctx context.Context, b *bot, sm *socketmode.Client, req *socketmode.Request, acks *sync.WaitGroup) {
	if req == nil {
		return
	}
	ack := func() {
		if err := sm.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
			b.log.Warn("cannot acknowledge a Socket Mode request", "envelope", req.EnvelopeID, "err", err)
		}
	}
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		var env envelope
		if err := json.Unmarshal(req.Payload, &env); err != nil || env.Type != "event_callback" {
			b.log.Debug("ignored a Socket Mode event", "type", env.Type, "err", err)
			ack()
			return
		}
		h := p.accept(b, &env, req.Payload, req.RetryAttempt)
		acks.Go(func() {
			if !h.wait(ctx, p.opts.AckWait) {
				p.stats.notAcked.Add(1)
				b.log.Warn("a Socket Mode event is not durable in time, or not taken; left unacknowledged", "envelope", req.EnvelopeID, "event", env.EventID)
				return
			}
			ack()
		})
	case socketmode.RequestTypeInteractive:
		ack()
		if !p.interact(b, req.Payload) {
			b.log.Warn("malformed Socket Mode interaction", "envelope", req.EnvelopeID)
		}
	default:
		ack()
	}
}

// debugLog passes slack-go's debug output to slog.
type debugLog struct{ log *slog.Logger }

func (d debugLog) Output(_ int, s string) error {
	d.log.Debug("socketmode: " + strings.TrimSpace(s))
	return nil
}

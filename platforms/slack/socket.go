package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// superviseSocket keeps the bot's Socket Mode connection up until the bot
// stops. slack-go's client reconnects by itself; when it gives up (Slack
// refuses the app token, or a panic), the run is restarted after a backoff
// that doubles up to socketBackoffMx and starts over after a run that
// lasted a minute.
func (p *Platform) superviseSocket(b *bot) {
	wait := p.backoff
	for {
		started := time.Now()
		err := p.runSocket(b)
		if b.ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			wait = p.backoff
		}
		b.log.Warn("Socket Mode stopped; restarting", "err", err, "slack_error", errorCode(err), "in", wait)
		if !sleep(b.ctx, wait) {
			return
		}
		wait = min(2*wait, socketBackoffMx)
	}
}

// runSocket runs one Socket Mode client until it fails or the bot stops.
func (p *Platform) runSocket(b *bot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	p.stats.socketRuns.Add(1)
	api := slack.New("", slack.OptionAppLevelToken(b.cfg.AppToken),
		slack.OptionAPIURL(b.cfg.APIURL), slack.OptionHTTPClient(p.opts.HTTPClient))
	sm := socketmode.New(api, socketmode.OptionLog(debugLog{b.log}))
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel() // a panic here restarts the run too
		p.consumeSocket(ctx, b, sm)
	}()
	err = sm.RunContext(ctx)
	cancel()
	<-done
	return err
}

// consumeSocket handles the client's events until ctx ends.
func (p *Platform) consumeSocket(ctx context.Context, b *bot, sm *socketmode.Client) {
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
			p.socketEvent(ctx, b, sm, evt)
		}
	}
}

// socketEvent acknowledges and handles events and interactions, and logs
// the connection's life.
func (p *Platform) socketEvent(ctx context.Context, b *bot, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive:
		p.socketRequest(ctx, b, sm, evt.Request)
	case socketmode.EventTypeErrorBadMessage:
		// slack-go cannot parse events of types it does not know; they
		// still need an ack, and may be client events.
		var req socketmode.Request
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok && json.Unmarshal(bad.Message, &req) == nil && req.EnvelopeID != "" {
			p.socketRequest(ctx, b, sm, &req)
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

// socketRequest acknowledges a request and hands its payload to the same
// code as the HTTP routes.
func (p *Platform) socketRequest(ctx context.Context, b *bot, sm *socketmode.Client, req *socketmode.Request) {
	if req == nil {
		return
	}
	if err := sm.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
		b.log.Warn("cannot acknowledge a Socket Mode request", "envelope", req.EnvelopeID, "err", err)
	}
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		var env envelope
		if err := json.Unmarshal(req.Payload, &env); err != nil || env.Type != "event_callback" {
			b.log.Debug("ignored a Socket Mode event", "type", env.Type, "err", err)
			return
		}
		p.accept(b, &env, req.Payload)
	case socketmode.RequestTypeInteractive:
		if !p.interact(b, req.Payload) {
			b.log.Warn("malformed Socket Mode interaction", "envelope", req.EnvelopeID)
		}
	}
}

// debugLog passes slack-go's debug output to slog.
type debugLog struct{ log *slog.Logger }

func (d debugLog) Output(_ int, s string) error {
	d.log.Debug("socketmode: " + strings.TrimSpace(s))
	return nil
}

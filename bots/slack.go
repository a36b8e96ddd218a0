package bots

import (
	"context"
	"errors"
	"fmt"

	"botserver/config"
	"botserver/persistence"
	"botserver/platforms/slack"
)

// addSlack gives bot id its Slack app, if it has one, and runs its Socket
// Mode connection (if it has an app token) under the bot's supervisor.
func (r *Registry) addSlack(ctx context.Context, id string, cfg *config.SlackConfig) error {
	if cfg == nil {
		return nil
	}
	store, err := r.db.Keys(id)
	if err != nil {
		return err
	}
	if err := r.slack.AddBot(id, cfg.Platform(), persistence.KV{Keys: store}); err != nil {
		return err
	}
	if rec, ok := r.slack.Receiver(id); ok {
		if err := r.rt.AddReceiver(ctx, id, slack.Name, rec); err != nil {
			r.slack.RemoveBot(id)
			return err
		}
	}
	return nil
}

// SlackReachable reports whether bot has a Slack app or installations.
func (r *Registry) SlackReachable(bot string) bool {
	if src := r.Source(bot); src != nil && src.Slack != nil {
		return true
	}
	return r.slack.Installations(bot) > 0
}

// ConnectSlack adds a Slack installation to bot (connect_bot).
func (r *Registry) ConnectSlack(bot, token, team string) error {
	err := r.slack.Connect(bot, token, team)
	if errors.Is(err, slack.ErrUnknownBot) {
		return fmt.Errorf("bot %q has no Slack app: give it slack.signing_secret or slack.app_token first", bot)
	}
	return err
}

package bots

import (
	"errors"
	"fmt"
	"time"

	"botserver/config"
	"botserver/persistence"
	"botserver/platforms/slack"
)

// slackStore is a bot's store as the Slack platform uses it.
type slackStore struct{ s persistence.Keyspace }

func (b slackStore) Get(key string) ([]byte, bool, error) {
	v, err := b.s.Get(key)
	if errors.Is(err, persistence.ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (b slackStore) Put(key string, value []byte, ttl time.Duration) error {
	return b.s.WriteSync(persistence.Op{Key: key, Value: value, TTL: ttl})
}

func (b slackStore) Delete(key string) error {
	return b.s.WriteSync(persistence.Op{Key: key, Delete: true})
}

func (b slackStore) Scan(prefix string, fn func(key string, value []byte) error) error {
	return b.s.Scan(prefix, fn)
}

// addSlack gives bot id its Slack app, if it has one.
func (r *Registry) addSlack(id string, cfg *config.SlackConfig) error {
	if cfg == nil {
		return nil
	}
	store, err := r.db.Keys(id)
	if err != nil {
		return err
	}
	return r.slack.AddBot(id, cfg.Platform(), slackStore{store})
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

package main

import (
	"errors"
	"fmt"
	"time"

	"botserver/persistence"
	"botserver/platforms/slack"
)

// slackStore is a bot's store as the Slack platform uses it.
type slackStore struct{ s *persistence.BotStore }

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

// startSlack makes the Slack platform; bots with a Slack app join it as
// they start.
func (m *Main) startSlack() {
	m.slack = slack.New(slack.Options{Gateway: m.rt, Logger: m.Logger, PublicURL: m.public})
	m.rt.RegisterPlatform(slack.Name, m.slack)
}

// addSlack gives bot id its Slack app, if it has one.
func (m *Main) addSlack(id string, cfg *SlackConfig) error {
	if cfg == nil {
		return nil
	}
	store, err := m.db.Bot(id)
	if err != nil {
		return err
	}
	return m.slack.AddBot(id, slackConfig(cfg), slackStore{store})
}

// slackReachable reports whether bot has a Slack app or installations.
func (m *Main) slackReachable(bot string) bool {
	if src := m.source(bot); src != nil && src.Slack != nil {
		return true
	}
	return m.slack.Installations(bot) > 0
}

// connectSlack adds a Slack installation to bot (connect_bot).
func (m *Main) connectSlack(bot, token, team string) error {
	err := m.slack.Connect(bot, token, team)
	if errors.Is(err, slack.ErrUnknownBot) {
		return fmt.Errorf("bot %q has no Slack app: give it slack.signing_secret or slack.app_token first", bot)
	}
	return err
}

// validateSlack checks a bot's Slack app; field is "bots[i].slack".
func validateSlack(field string, s *SlackConfig) []error {
	var errs []error
	for _, p := range slackConfig(s).Check() {
		if p.Field == "" {
			errs = append(errs, fmt.Errorf("%s: %s", field, p.Why))
		} else {
			errs = append(errs, fmt.Errorf("%s.%s: %q %s", field, p.Field, p.Value, p.Why))
		}
	}
	return errs
}

// slackConfig is the platform's view of a bot's Slack app.
func slackConfig(s *SlackConfig) slack.BotConfig {
	return slack.BotConfig{SigningSecret: s.SigningSecret, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		BotToken: s.BotToken, AppToken: s.AppToken, APIURL: s.APIURL}
}

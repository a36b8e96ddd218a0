package config

import (
	"fmt"

	"botserver/platforms/slack"
)

// ValidateSlack checks a bot's Slack app; field is "bots[i].slack".
func ValidateSlack(field string, s *SlackConfig) []error {
	var errs []error
	for _, p := range s.Platform().Check() {
		if p.Field == "" {
			errs = append(errs, fmt.Errorf("%s: %s", field, p.Why))
		} else {
			errs = append(errs, fmt.Errorf("%s.%s: %q %s", field, p.Field, p.Value, p.Why))
		}
	}
	return errs
}

// Platform is the Slack platform's view of a bot's Slack app.
func (s *SlackConfig) Platform() slack.BotConfig {
	return slack.BotConfig{SigningSecret: s.SigningSecret, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		BotToken: s.BotToken, AppToken: s.AppToken, APIURL: s.APIURL}
}

package main

import "errors"

// slackReachable reports whether bot has a Slack app configured or installed.
func (m *Main) slackReachable(bot string) bool { return false }

// connectSlack adds a Slack installation to bot (connect_bot).
func (m *Main) connectSlack(bot, token, team string) error {
	return errors.New("slack is not available yet")
}

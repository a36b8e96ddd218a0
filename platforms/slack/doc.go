// Package slack is the Slack platform: Events API and interactivity over
// signed HTTP or Socket Mode, OAuth v2 installs (many workspaces per bot),
// and replies through chat.postMessage with each workspace's token, in
// order per conversation. An event is acknowledged once its input is
// durable (Options.AckWait at most, else 503: Slack sends it again); its
// delivery carries an input id made from its event id, so that the
// conversation drops a copy another member of a cluster delivered too.
//
// DMs and mentions are user messages of the conversation "slack:T:C:U"
// (team, channel, user); a quick-reply button click is the user's text.
// Other events reach scripts as client events only if main.bot handles
// them, with Slack's event object as payload: slack_<subtype> for messages
// (slack_message_changed, slack_message_deleted, slack_channel_join),
// slack_bot_message, slack_channel_message (no mention), slack_block_actions
// (other buttons), slack_<type> otherwise (slack_member_joined_channel).
// The bot's own messages are never inputs. A bot's Socket Mode connection
// is a botserver.Receiver (Receiver) that the runtime runs under the bot's
// supervisor.
//
//	p := slack.New(slack.Options{Gateway: rt, Logger: log, PublicURL: url})
//	rt.RegisterPlatform(slack.Name, p)
//	p.AddBot("chatter", slack.BotConfig{SigningSecret: s, ClientID: id, ClientSecret: cs}, store)
//	p.Register(mux)
//	if r, ok := p.Receiver("chatter"); ok { rt.AddReceiver(ctx, "chatter", slack.Name, r) }
//	defer p.Shutdown(ctx) // ends Socket Mode, posts what is queued
package slack

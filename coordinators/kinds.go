package coordinators

import (
	"fmt"
	"net/url"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
)

// Kinds returns the master and group coordinators and the group registry
// for a runtime (actors.Options.Coordinators).
func Kinds() actors.Coordinators {
	return actors.Coordinators{Master: Master{}, Group: Group{},
		Groups: func(store persistence.Keyspace) actors.GroupRegistry { return NewRegistry(store) }}
}

// Master is the bot's master coordinator: at most one per bot, started on
// first use; its dialog main runs once in its life (the runtime starts it
// when it has no state yet). It keeps no members: the master keeps its own
// lists in variables, and an emit without to: in master.bot goes nowhere.
type Master struct{}

// Open returns the master's role; it does nothing to the state.
func (Master) Open(*dsl.State, string) actors.Role { return master{} }

type master struct{}

func (master) Create(map[string]any)                   {}
func (master) Receive(dsl.Input, *actors.Limits) error { return nil }
func (master) Undo(dsl.Input)                          {}
func (master) Audience() []string                      { return nil }

// ChatLink returns chat_link's host function for a server whose public URL
// is base ("http://127.0.0.1:8080"): the web chat page that opens a
// conversation in the group (actors.Options.ChatLink). Only the web
// platform has join links.
func ChatLink(base string) func(bot, platform, group string) (string, error) {
	return func(bot, platform, group string) (string, error) {
		if platform != "web" {
			return "", fmt.Errorf("no join links on %q (only on \"web\")", platform)
		}
		return base + "/chat/" + bot + "?g=" + url.QueryEscape(group), nil
	}
}

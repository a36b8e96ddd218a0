// Package test holds InMemAgent, a membership registry shared by the
// members of one process, and a provider over it (botserver registers with
// the agent through a provider of its own).
//
//	agent := test.NewInMemAgent()
package test

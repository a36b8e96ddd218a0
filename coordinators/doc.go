// Package coordinators holds what makes a script instance a bot's master
// or a group: how a new group takes its initial variables, how the runtime
// keeps a group's members (a conversation opened through a group link sends
// "join"), and who an emit without to: reaches (a group's members; nobody
// for the master). The actors package runs them as actors.Coordinator.
//
//	rt := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds()})
package coordinators

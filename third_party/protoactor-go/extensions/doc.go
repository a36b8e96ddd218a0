// Package extensions holds the typed extensions attached to an actor
// system, such as the cluster or remote, looked up by their ID.
//
//	id := extensions.NextExtensionID()
package extensions

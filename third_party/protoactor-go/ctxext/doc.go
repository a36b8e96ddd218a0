// Package ctxext holds typed extensions attached to an actor system
// (ContextExtensions, keyed by an ID).
//
//	id := ctxext.NextContextExtensionID()
package ctxext

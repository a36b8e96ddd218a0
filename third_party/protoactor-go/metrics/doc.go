// Package metrics holds the actor system's OpenTelemetry instruments
// (mailbox lengths, spawns, message latencies), enabled through the actor
// system's config.
package metrics

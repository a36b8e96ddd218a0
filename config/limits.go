package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/web"
)

// LimitsConfig is the config's "limits" object (PROTOCOL.md): what one
// user, script or client address may make the server hold. 0 (or a
// missing field) takes the default; the per-address limits take -1 for
// none.
type LimitsConfig struct {
	StateBytes           int      `json:"state_bytes"`            // encoded state per instance and user record
	QueuedInputs         int      `json:"queued_inputs"`          // inputs waiting for a busy dialog, per instance
	GroupMembers         int      `json:"group_members"`          // members per group
	IdentitiesPerMinute  int      `json:"identities_per_minute"`  // new web identities per client address
	ConnectionsPerMinute int      `json:"connections_per_minute"` // websocket connections per client address
	InstanceFailures     int      `json:"instance_failures"`      // failures of one instance within failure_window before it is quarantined
	FailureWindow        string   `json:"failure_window"`         // a duration, "10s"
	TrustedProxies       []string `json:"trusted_proxies"`        // addresses or CIDRs whose X-Forwarded-For names the client
	ScriptLimits
}

// ScriptLimits are the limits of the "limits" object that bound what one
// turn of a script may do (dsl.Limits); 0 or a missing field takes the
// default (dsl.DefaultLimits).
type ScriptLimits struct {
	TurnSteps       int `json:"turn_steps"`       // statements per turn (100,000)
	PlaySteps       int `json:"play_steps"`       // statements of a play snippet's turn (10,000,000)
	AllocBytes      int `json:"alloc_bytes"`      // memory one expression may allocate (16 MiB)
	HeldBytes       int `json:"held_bytes"`       // memory dialogs waiting on invoke/perform may hold in one turn (16 MiB)
	UndoRecords     int `json:"undo_records"`     // variable writes one turn may undo (100,000; at least 64)
	LogBytes        int `json:"log_bytes"`        // a log line is cut to this (4 KiB)
	ScheduledEvents int `json:"scheduled_events"` // events an instance may have scheduled and not yet fired (1,000)
}

// scriptLimitMax bounds every script limit: a config cannot lift them
// out of reach (1 GiB of memory, a billion statements).
const scriptLimitMax = 1 << 30

// minUndoRecords is the least undo log a turn may have (dsl's index
// threshold: below it the limit would be raised anyway).
const minUndoRecords = 64

// fields lists the script limits by config name, with their values and
// defaults.
func (s *ScriptLimits) fields() []scriptField {
	d := dsl.DefaultLimits()
	return []scriptField{
		{"turn_steps", s.TurnSteps, d.MaxSteps, 1},
		{"play_steps", s.PlaySteps, d.MaxPlaySteps, 1},
		{"alloc_bytes", s.AllocBytes, d.MaxAllocBytes, 1 << 10},
		{"held_bytes", s.HeldBytes, d.MaxHeldBytes, 1 << 10},
		{"undo_records", s.UndoRecords, d.MaxUndo, minUndoRecords},
		{"log_bytes", s.LogBytes, d.MaxLogBytes, 64},
		{"scheduled_events", s.ScheduledEvents, d.MaxScheduled, 1},
	}
}

type scriptField struct {
	name          string
	v, def, least int
}

func (s *ScriptLimits) validate(bad func(field string, value any, why string)) {
	for _, f := range s.fields() {
		if f.v != 0 && (f.v < f.least || f.v > scriptLimitMax) {
			bad("limits."+f.name, f.v, fmt.Sprintf("must be between %d and %d (0: the default %d)", f.least, scriptLimitMax, f.def))
		}
	}
}

// dsl returns the script limits (validated; a value out of range takes
// the default, Validate having refused the config naming the field).
func (s *ScriptLimits) dsl() dsl.Limits {
	v := func(f scriptField) int {
		if f.v < f.least || f.v > scriptLimitMax {
			return 0
		}
		return f.v
	}
	f := s.fields()
	return dsl.Limits{MaxSteps: v(f[0]), MaxPlaySteps: v(f[1]), MaxAllocBytes: v(f[2]), MaxHeldBytes: v(f[3]),
		MaxUndo: v(f[4]), MaxLogBytes: v(f[5]), MaxScheduled: v(f[6])}
}

// validate appends a problem per bad field.
func (l *LimitsConfig) validate(bad func(field string, value any, why string)) {
	if l.StateBytes < 0 || l.StateBytes > persistence.MaxValueSize {
		bad("limits.state_bytes", l.StateBytes, fmt.Sprintf("must be between 1 and %d (the store's value limit; 0: the default %d)", persistence.MaxValueSize, actors.DefaultStateBytes))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"queued_inputs", l.QueuedInputs}, {"group_members", l.GroupMembers}, {"instance_failures", l.InstanceFailures}} {
		if f.v < 0 {
			bad("limits."+f.name, f.v, "must be 0 (the default) or more")
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"identities_per_minute", l.IdentitiesPerMinute}, {"connections_per_minute", l.ConnectionsPerMinute}} {
		if f.v < -1 {
			bad("limits."+f.name, f.v, "must be -1 (no limit), 0 (the default) or more")
		}
	}
	l.ScriptLimits.validate(bad)
	if d, err := l.window(); err != nil || d < 0 {
		bad("limits.failure_window", l.FailureWindow, `must be a positive duration such as "10s"`)
	}
	for i, p := range l.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad(fmt.Sprintf("limits.trusted_proxies[%d]", i), p, "must be an IP address or a CIDR prefix")
		}
	}
}

func (l *LimitsConfig) window() (time.Duration, error) {
	if l.FailureWindow == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(l.FailureWindow)
	if err == nil && d <= 0 {
		return d, fmt.Errorf("not positive")
	}
	return d, err
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// runtime returns the runtime's limits and restart policy (validated).
func (l *LimitsConfig) Runtime() (actors.Limits, actors.RestartPolicy) {
	lim := actors.Limits{StateBytes: l.StateBytes, QueuedInputs: l.QueuedInputs, GroupMembers: l.GroupMembers, Script: l.ScriptLimits.dsl()}
	if lim.StateBytes < 0 || lim.StateBytes > persistence.MaxValueSize {
		lim.StateBytes = 0 // the default: Validate refuses the config, naming the field
	}
	policy := actors.DefaultRestartPolicy
	if l.InstanceFailures > 0 {
		policy.Max = l.InstanceFailures
	}
	if d, _ := l.window(); d > 0 {
		policy.Within = d
	}
	return lim, policy
}

// web sets the web platform's per-address limits (validated).
func (l *LimitsConfig) Web(o *web.Options) {
	o.IdentitiesPerMinute, o.ConnectionsPerMinute = l.IdentitiesPerMinute, l.ConnectionsPerMinute
	for _, s := range l.TrustedProxies {
		p, _ := parsePrefix(s)
		o.TrustedProxies = append(o.TrustedProxies, p.Masked())
	}
}

package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"botserver/actors"
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
	lim := actors.Limits{StateBytes: l.StateBytes, QueuedInputs: l.QueuedInputs, GroupMembers: l.GroupMembers}
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

package actors

// profileKey holds, in a user record, the display name the platform gave
// last (botserver.Inbound.Name); ownKey marks a user.name a script
// assigned. Scripts see neither. While user.name is unset, or still the
// platform's (not the script's), a new display name replaces it; once a
// script has assigned user.name (even the platform's very value) it stays.
const (
	profileKey = "~name"
	ownKey     = "~own"
)

// profile is what a user record keeps of the platform's name.
type profile struct {
	name string // the platform's last display name
	own  bool   // a script assigned user.name
}

// takeProfile removes the platform's name from a turn's user fields and
// applies name, the display name the platform gives now (if any), to
// user.name unless a script has assigned user.name itself. It returns
// what to keep in the record and whether the record changed.
func takeProfile(fields map[string]any, name string) (p profile, changed bool) {
	p.name, _ = fields[profileKey].(string)
	p.own, _ = fields[ownKey].(bool)
	delete(fields, profileKey)
	delete(fields, ownKey)
	if name == "" || name == p.name {
		return p, false
	}
	if cur, set := fields["name"]; !set || cur == nil || (cur == p.name && !p.own) {
		fields["name"] = name
	}
	p.name = name
	return p, true
}

// putProfile puts the platform's name back into fields before they are
// written.
func putProfile(fields map[string]any, p profile) {
	if p.name != "" {
		fields[profileKey] = p.name
	}
	if p.own {
		fields[ownKey] = true
	}
}

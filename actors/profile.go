package actors

// profileKey holds, in a user record, the display name the platform gave
// last (botserver.Inbound.Name). Scripts never see it: it tells whether user.name is
// still the platform's (then a new display name replaces it) or a script
// wrote its own (then it stays).
const profileKey = "~name"

// takeProfile removes the platform's name from a turn's user fields and
// applies name, the display name the platform gives now (if any), to
// user.name unless a script has written user.name itself. It returns the
// name to keep in the record and whether the record changed.
func takeProfile(fields map[string]any, name string) (profile string, changed bool) {
	profile, _ = fields[profileKey].(string)
	delete(fields, profileKey)
	if name == "" || name == profile {
		return profile, false
	}
	if cur, set := fields["name"]; !set || cur == nil || cur == profile {
		fields["name"] = name
	}
	return name, true
}

// putProfile puts the platform's name back into fields before they are
// written.
func putProfile(fields map[string]any, profile string) {
	if profile != "" {
		fields[profileKey] = profile
	}
}

package botserver

// BotIDPattern is the form of a bot id, as messages quote it: lower-case
// letters, digits, "_" and "-", starting with a letter or digit, at most 63
// bytes. A bot id is part of URLs, store keys and log lines.
const BotIDPattern = "[a-z0-9][a-z0-9_-]{0,62}"

// ValidBotID reports whether id matches BotIDPattern.
func ValidBotID(id string) bool {
	if len(id) == 0 || len(id) > 63 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

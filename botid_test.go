package botserver

import (
	"regexp"
	"strings"
	"testing"
)

var botIDRegexp = regexp.MustCompile("^" + BotIDPattern + "$")

func TestValidBotID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"echo", true}, {"a", true}, {"0-b_c", true}, {strings.Repeat("a", 63), true},
		{"", false}, {strings.Repeat("a", 64), false}, {"Echo", false}, {"-a", false}, {"_a", false},
		{"a b", false}, {"a/b", false}, {"a\x00b", false}, {"é", false},
	} {
		if got := ValidBotID(tt.id); got != tt.want {
			t.Errorf("ValidBotID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// FuzzValidBotID: ValidBotID is exactly BotIDPattern.
func FuzzValidBotID(f *testing.F) {
	for _, s := range []string{"echo", "", "-a", "a-", strings.Repeat("z", 64), "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidBotID(id), botIDRegexp.MatchString(id); got != want {
			t.Errorf("ValidBotID(%q) = %v, the pattern says %v", id, got, want)
		}
	})
}

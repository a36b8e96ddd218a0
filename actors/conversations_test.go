package actors_test

import (
	"errors"
	"strconv"
	"testing"

	"botserver/actors"
)

// TestConversationsBadLimit: a page size below 1 is refused with
// ErrBadLimit (it used to index the page at -1 and panic once the bot had
// a conversation).
func TestConversationsBadLimit(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	for _, limit := range []int{0, -1} {
		list, next, err := s.rt.Conversations("counter", limit, "")
		if !errors.Is(err, actors.ErrBadLimit) || err.Error() != "a page holds at least one conversation: limit "+strconv.Itoa(limit) || list != nil || next != "" {
			t.Errorf("limit %d: %v %q %v, want ErrBadLimit", limit, list, next, err)
		}
	}
	if list, _, err := s.rt.Conversations("counter", 1, ""); err != nil || len(list) != 1 || list[0].Address != "test:alice" {
		t.Errorf("limit 1: %+v %v, want alice's", list, err)
	}
}

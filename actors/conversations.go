package actors

import (
	"container/heap"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"botserver"
	"botserver/dsl"
	"botserver/persistence"
)

// Errors of Conversations' arguments.
var (
	// ErrBadCursor is a cursor that the runtime did not hand out.
	ErrBadCursor = errors.New("not a cursor of this list")
	// ErrBadLimit is a page size below 1.
	ErrBadLimit = errors.New("a page holds at least one conversation")
)

// ConversationInfo is one stored conversation of a bot.
type ConversationInfo struct {
	Conv       botserver.Conversation
	Address    string
	LastActive time.Time // the Unix epoch: written before last_active was recorded
	WaitingIn  string    // the dialog with a pending ask, "" for none
}

// convEntry is a ConversationInfo in the list's order: most recently
// active first, then by address.
type convEntry = ConversationInfo

func before(x, y *convEntry) bool {
	if !x.LastActive.Equal(y.LastActive) {
		return x.LastActive.After(y.LastActive)
	}
	return x.Address < y.Address
}

// Cursor is the position of e in the list, for the next page's after.
func (e *ConversationInfo) Cursor() string {
	return strconv.FormatInt(e.LastActive.UnixNano(), 10) + "/" + e.Address
}

func parseCursor(s string) (*convEntry, error) {
	ns, addr, ok := strings.Cut(s, "/")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || addr == "" {
		return nil, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return &convEntry{LastActive: time.Unix(0, n).UTC(), Address: addr}, nil
}

// worst is a max-heap of the page being built: its root is the entry
// that sorts last, dropped when a better one comes and the page is full.
type worst []convEntry

func (h worst) Len() int           { return len(h) }
func (h worst) Less(i, j int) bool { return before(&h[j], &h[i]) }
func (h worst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worst) Push(x any)        { *h = append(*h, x.(convEntry)) }
func (h *worst) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Conversations lists bot's conversations from the store, passivated or
// not, most recently active first (LastActive, see dsl.State.Active), at
// most limit of them after the cursor after ("" for the start). next is
// the cursor of the following page, "" at the end. Cost: one scan of the
// bot's state keys (every conversation, group and the master) per call,
// reading each state's fields without decoding its variables; memory for
// limit+1 entries. A turn being written may or may not be seen. A limit
// below 1 is refused with ErrBadLimit.
func (r *Runtime) Conversations(bot string, limit int, after string) (list []ConversationInfo, next string, err error) {
	b := r.bot(bot)
	if b == nil {
		return nil, "", fmt.Errorf("%w: %s", botserver.ErrUnknownBot, bot)
	}
	if limit < 1 {
		return nil, "", fmt.Errorf("%w: limit %d", ErrBadLimit, limit)
	}
	var from *convEntry
	if after != "" {
		if from, err = parseCursor(after); err != nil {
			return nil, "", err
		}
	}
	page := make(worst, 0, limit+1)
	err = b.store.Scan(persistence.PrefixState, func(key string, value []byte) error {
		e, ok := b.conversationEntry(key, value)
		if !ok || from != nil && !before(from, &e) {
			return nil
		}
		heap.Push(&page, e)
		if len(page) > limit+1 {
			heap.Pop(&page)
		}
		return nil
	})
	var corrupt *persistence.CorruptError
	if err != nil && !errors.As(err, &corrupt) { // a corrupt record is skipped
		return nil, "", fmt.Errorf("cannot list the conversations of %s: %w", bot, err)
	}
	list = make([]ConversationInfo, len(page))
	for i := len(page) - 1; i >= 0; i-- {
		list[i] = heap.Pop(&page).(convEntry)
	}
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].Cursor()
	}
	return list, next, nil
}

// conversationEntry reads one state record; ok is false for coordinators
// (master, groups) and for a state that cannot be read (logged).
func (b *botRT) conversationEntry(key string, value []byte) (convEntry, bool) {
	addr := strings.TrimPrefix(key, persistence.PrefixState)
	conv, ok := botserver.ParseAddress(b.id, addr)
	if !ok {
		return convEntry{}, false
	}
	sum, err := dsl.SummarizeState(value)
	if err != nil {
		b.log.Warn("corrupt state skipped in the list of conversations", "conv", addr, "err", err)
		return convEntry{}, false
	}
	return convEntry{Conv: conv, Address: addr, LastActive: lastActive(sum.Active), WaitingIn: sum.WaitingIn}, true
}

// lastActive is a state's last activity as the list shows it: the Unix
// epoch for a state written before it was recorded (zero), which sorts
// last and, unlike the zero time (whose UnixNano is undefined), makes a
// cursor that reads back as itself.
func lastActive(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

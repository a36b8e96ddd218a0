package slack

import (
	"context"
	"sync"
)

// lanes run items in order per key, keys independently. A key's goroutine
// exists only while the key has items, so idle conversations cost nothing.
type lanes[T any] struct {
	handle func(T)
	max    int // items waiting per key

	mu     sync.Mutex
	queues map[string][]T // a key is present while its goroutine runs
	idle   chan struct{}  // closed while no key is present
}

func newLanes[T any](max int, handle func(T)) *lanes[T] {
	idle := make(chan struct{})
	close(idle)
	return &lanes[T]{handle: handle, max: max, queues: map[string][]T{}, idle: idle}
}

// push queues item on key's lane, starting its goroutine if needed. It
// returns false (and drops item) when max items already wait there.
func (l *lanes[T]) push(key string, item T) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	q, running := l.queues[key]
	if len(q) >= l.max {
		return false
	}
	if len(l.queues) == 0 {
		l.idle = make(chan struct{})
	}
	l.queues[key] = append(q, item)
	if !running {
		go l.run(key)
	}
	return true
}

// run handles key's items until its queue is empty.
func (l *lanes[T]) run(key string) {
	for {
		l.mu.Lock()
		q := l.queues[key]
		if len(q) == 0 {
			delete(l.queues, key)
			if len(l.queues) == 0 {
				close(l.idle)
			}
			l.mu.Unlock()
			return
		}
		item := q[0]
		var zero T
		q[0] = zero
		l.queues[key] = q[1:]
		l.mu.Unlock()
		l.handle(item)
	}
}

// wait returns when no lane runs, or ctx's error when it ends first.
func (l *lanes[T]) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		idle, empty := l.idle, len(l.queues) == 0
		l.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// running returns how many keys have a goroutine now.
func (l *lanes[T]) running() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queues)
}

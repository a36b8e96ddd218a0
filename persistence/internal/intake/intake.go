package intake

import "sync"

// Queue is a writer's intake. It is safe for concurrent use; Take and
// Wake belong to the one writer goroutine.
type Queue[T any] struct {
	mu      sync.Mutex
	items   []T
	closing bool
	wake    chan struct{} // capacity 1: "something was put, or Close began"
}

// New returns an empty, open Queue.
func New[T any]() *Queue[T] { return &Queue[T]{wake: make(chan struct{}, 1)} }

// Put queues items, together (one Take gets them all), and wakes the
// writer; false once Close began (the caller then reports the store
// closed).
func (q *Queue[T]) Put(items ...T) bool {
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, items...)
	q.mu.Unlock()
	q.signal()
	return true
}

// Close refuses further items and wakes the writer, which takes what is
// queued and then sees closing.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.signal()
}

// Take returns everything queued, in order, and whether Close began; the
// queue goes on in spare (an emptied slice to reuse, or nil).
func (q *Queue[T]) Take(spare []T) (items []T, closing bool) {
	q.mu.Lock()
	items, closing = q.items, q.closing
	q.items = spare
	q.mu.Unlock()
	return items, closing
}

// Wake is readable after a Put or Close since it was last read: the
// writer waits on it when Take found nothing.
func (q *Queue[T]) Wake() <-chan struct{} { return q.wake }

func (q *Queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

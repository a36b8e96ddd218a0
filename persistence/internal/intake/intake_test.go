package intake

import (
	"sync"
	"testing"
)

// TestQueue: items come out in the order they went in, all at once; a
// Put wakes the writer; after Close, Put refuses and Take says closing.
func TestQueue(t *testing.T) {
	q := New[int]()
	for i := range 3 {
		if !q.Put(i) {
			t.Fatalf("Put(%d) refused on an open queue", i)
		}
	}
	select {
	case <-q.Wake():
	default:
		t.Fatal("no wake after Put")
	}
	items, closing := q.Take(nil)
	if len(items) != 3 || items[0] != 0 || items[2] != 2 || closing {
		t.Fatalf("Take = %v, %v; want [0 1 2], false", items, closing)
	}
	if items, _ := q.Take(items[:0]); len(items) != 0 {
		t.Fatalf("a second Take = %v, want nothing", items)
	}
	q.Close()
	if q.Put(9) {
		t.Error("Put after Close was taken")
	}
	if _, closing := q.Take(nil); !closing {
		t.Error("Take after Close does not say closing")
	}
}

// TestQueueConcurrent: every item put from many goroutines before Close
// is taken exactly once.
func TestQueueConcurrent(t *testing.T) {
	q := New[int]()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				q.Put(g*100 + i)
			}
		}()
	}
	seen := map[int]bool{}
	done := make(chan struct{})
	go func() { wg.Wait(); q.Close(); close(done) }()
	for {
		items, closing := q.Take(nil)
		for _, it := range items {
			if seen[it] {
				t.Fatalf("%d taken twice", it)
			}
			seen[it] = true
		}
		if closing { // every Put came before Close: all were in this Take or earlier
			break
		}
		if len(items) == 0 {
			<-q.Wake()
		}
	}
	<-done
	if len(seen) != 800 {
		t.Errorf("%d items taken, want 800", len(seen))
	}
}

package actors

import (
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestResidentShardIsACacheLine: two shards' locks are never on one
// cache line.
func TestResidentShardIsACacheLine(t *testing.T) {
	if got := unsafe.Sizeof(residentShard{}); got != 64 {
		t.Errorf("a resident shard is %d bytes, want 64", got)
	}
}

// TestDispatcherCloseStopsWorkers: close runs what is queued and returns
// once every worker has ended.
func TestDispatcherCloseStopsWorkers(t *testing.T) {
	d := newPoolDispatcher(4, 10)
	var ran atomic.Int32
	for range 100 {
		d.Schedule(func() { ran.Add(1) })
	}
	d.close()
	if got := ran.Load(); got != 100 {
		t.Errorf("%d of 100 queued runs happened before close returned", got)
	}
}

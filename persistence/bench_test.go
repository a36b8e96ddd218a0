package persistence

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkWriteGroupCommit measures persisted turns per second: many
// actors (goroutines) each write a ~200-byte versioned state and wait for it
// to be durable before their next turn.
func BenchmarkWriteGroupCommit(b *testing.B) {
	for _, actors := range []int{64, 512} {
		b.Run(fmt.Sprintf("actors=%d", actors), func(b *testing.B) {
			var stats batchStats
			var syncs atomic.Int64
			db := openDB(b, "", Options{OnCommit: stats.observe, BeforeSync: func(int) error {
				syncs.Add(1)
				return nil
			}})
			s := mustBot(b, db, "bench")
			value := make([]byte, 200)
			var next atomic.Int64
			b.SetParallelism(max(1, actors/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				key := StateKey(fmt.Sprintf("web:u%d", next.Add(1)))
				for version := uint64(1); pb.Next(); version++ {
					if err := s.WriteSync(Op{Key: key, Value: value, Version: version}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
			if n := stats.batches.Load(); n > 0 {
				b.ReportMetric(float64(stats.ops.Load())/float64(n), "ops/batch")
			}
			if n := syncs.Load(); n > 0 {
				b.ReportMetric(float64(stats.ops.Load())/float64(n), "ops/sync")
			}
		})
	}
}

// BenchmarkGet measures reading a 200-byte versioned state.
func BenchmarkGet(b *testing.B) {
	db := openDB(b, "", Options{})
	s := mustBot(b, db, "bench")
	keys := make([]string, 10_000)
	ops := make([]Op, 0, 1000)
	for i := range keys {
		keys[i] = StateKey(fmt.Sprintf("web:u%d", i))
		ops = append(ops, Op{Key: keys[i], Value: make([]byte, 200), Version: 1})
		if len(ops) == cap(ops) {
			mustWrite(b, s, ops...)
			ops = ops[:0]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := s.Get(keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

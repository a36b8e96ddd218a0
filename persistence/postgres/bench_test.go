package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"botserver/persistence"
)

// BenchmarkFencedWrites measures fenced 1 KB writes per second through the
// store's writer: each writer goroutine owns a key, claims it with Load and
// then writes it with one write in flight (like an instance's turns).
func BenchmarkFencedWrites(b *testing.B) {
	for _, writers := range []int{64, 512} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			st := openStore(b, fmt.Sprintf("bench%d", writers), Options{})
			k, _ := st.Keys("bench")
			runWriters(b, writers, func(w int) func(i int) error {
				key := fmt.Sprintf("s/w%d", w)
				l, err := k.Load(key)
				if err != nil {
					b.Fatal(err)
				}
				value := randomValue()
				return func(i int) error {
					return k.CommitSync(persistence.Call{Fence: persistence.Fence{Key: key, Epoch: l.Epoch},
						Ops: []persistence.Op{{Key: key, Value: value, Version: l.Version + uint64(i) + 1}}})
				}
			})
		})
	}
}

// BenchmarkRawPgxBatch is the baseline: the same writers hand their write
// to one goroutine that sends everything pending as one pgx batch (one
// implicit transaction) of fenced UPDATEs, as in notes/scaleout.md §6.
func BenchmarkRawPgxBatch(b *testing.B) {
	for _, writers := range []int{64, 512} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			st := openStore(b, fmt.Sprintf("raw%d", writers), Options{})
			k, _ := st.Keys("raw")
			reqs := make(chan rawWrite, writers)
			go rawBatcher(b, st, reqs)
			defer close(reqs)
			runWriters(b, writers, func(w int) func(i int) error {
				key := fmt.Sprintf("s/w%d", w)
				l, err := k.Load(key)
				if err != nil {
					b.Fatal(err)
				}
				value := randomValue()
				done := make(chan error, 1)
				return func(i int) error {
					reqs <- rawWrite{key: []byte(key), value: value, ver: int64(l.Version) + int64(i) + 1, epoch: int64(l.Epoch), done: done}
					return <-done
				}
			})
		})
	}
}

type rawWrite struct {
	key, value []byte
	ver, epoch int64
	done       chan error
}

func rawBatcher(b *testing.B, st *Store, reqs chan rawWrite) {
	ctx := context.Background()
	for first := range reqs {
		batch := []rawWrite{first}
	more:
		for len(batch) < 1024 {
			select {
			case r, ok := <-reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		pb := &pgx.Batch{}
		for _, r := range batch {
			pb.Queue("UPDATE kv SET value = $1, ver = $2 WHERE bot = 'raw' AND key = $3 AND epoch = $4 AND ver < $2",
				r.value, r.ver, r.key, r.epoch)
		}
		err := st.pool.SendBatch(ctx, pb).Close()
		for _, r := range batch {
			r.done <- err
		}
	}
}

// runWriters runs b.N writes spread over writers goroutines, each with one
// write in flight, and reports writes/s and the latency percentiles.
func runWriters(b *testing.B, writers int, setup func(w int) func(i int) error) {
	writes := make([]func(int) error, writers)
	for w := range writers {
		writes[w] = setup(w)
	}
	per := max(1, b.N/writers)
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[w] = make([]time.Duration, 0, per)
			for i := range per {
				t0 := time.Now()
				if err := writes[w](i); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return // the writes failed (reported)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

func randomValue() []byte {
	v := make([]byte, 1024)
	rand.Read(v)
	return v
}

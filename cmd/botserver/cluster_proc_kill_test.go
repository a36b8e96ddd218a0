package main

import (
	"botserver/admin"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"botserver/cluster"
	"botserver/internal/testkit"
)

// procAskTimeout is the counter bot's ask timeout in TestClusterProcesses:
// long enough that the waiting conversations are all armed and the
// member is killed before any is due.
const procAskTimeout = 6 * time.Second

// startProcCluster starts three members over db and waits until each
// serves and sees all three. A member that exits first (a port taken
// meanwhile) makes it try again with other ports, at most three times.
func startProcCluster(t *testing.T, db string) (procs []*memberProc, cfgs, advertise []string) {
	t.Helper()
	src := strings.Replace(clusterCounter, `@ask_timeout "3s"`, `@ask_timeout "`+procAskTimeout.String()+`"`, 1)
	for attempt := 1; attempt <= 3; attempt++ {
		cfgs, advertise = writeMemberConfigs(t, db, src, freeClusterPorts(t, 3))
		procs = nil
		for i := range cfgs {
			procs = append(procs, startMember(t, cfgs[i], advertise[i]))
		}
		if waitMembers(procs, 3, 60*time.Second) {
			return procs, cfgs, advertise
		}
		for _, p := range procs {
			p.cmd.Process.Kill()
			<-p.exited
		}
		t.Logf("attempt %d: the members did not form a cluster; trying other ports", attempt)
	}
	t.Fatal("no cluster of three processes in three attempts")
	return nil, nil, nil
}

// waitMembers waits until every one of procs serves and its last view
// has n members; false at once if one exits (a port taken meanwhile), or
// if within passes.
func waitMembers(procs []*memberProc, n int, within time.Duration) bool {
	exited := false
	return poll(within, func() bool {
		for _, p := range procs {
			exited = exited || p.gone()
		}
		if exited {
			return true // stop waiting
		}
		for _, p := range procs {
			if addr, v := p.state(); addr == "" || v == nil || v.Members != n {
				return false
			}
		}
		return true
	}) && !exited
}

// procOpenOn opens conversations through the member at via until one is
// placed on victim (advertise are the live members), and returns it once
// it is ready.
func procOpenOn(t *testing.T, via string, advertise []string, victim string) *testkit.WSClient {
	t.Helper()
	for range 200 {
		c := testkit.DialChat(t, nil, "ws://"+via+"/ws/counter")
		if cluster.OwnerAmong(advertise, "counter", c.Welcome.Str("user")) != victim {
			c.WS.Close()
			continue
		}
		c.Expect("ready")
		return c
	}
	t.Fatal("no conversation landed on the member")
	return nil
}

// clientsServedSince waits until every client has been answered after at,
// within the given time of at. It logs the client answered last, with its
// last frames (the failure shows every client not answered).
func clientsServedSince(t *testing.T, clients []*counterClient, at time.Time, within time.Duration, what string) {
	t.Helper()
	answered := map[*counterClient]bool{}
	var slowest *counterClient
	ok := poll(time.Until(at.Add(within)), func() bool {
		for _, c := range clients {
			if _, last, _ := c.state(); !answered[c] && last.After(at) {
				answered[c], slowest = true, c
			}
		}
		return len(answered) == len(clients)
	})
	if !ok {
		for _, c := range clients {
			if !answered[c] {
				t.Logf("not answered: %s", c)
			}
		}
		t.Fatalf("%s at %s: not every client was answered within %v", what, at.Format("15:04:05.000"), within)
	}
	t.Logf("%s at %s: every client answered %v after it; the last was %s", what, at.Format("15:04:05.000"), time.Since(at).Round(time.Millisecond), slowest)
}

// TestClusterProcesses: three `botserver serve` processes (automanaged on
// 127.0.0.1) over one PostgreSQL; 60 closed-loop clients spread over
// them, and 6 conversations hosted on the third waiting on an ask
// timeout. The third is killed with SIGKILL: every client is answered
// again within 10 s, the ask timeouts armed on it fire on the survivors,
// then it restarts on the same config and takes its share back (its view
// owns shards, the three views place all shards once, it runs turns, and
// clients that connect to it count). Every client's counter strictly
// increases throughout: 0 acknowledged turns lost.
func TestClusterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	procs, cfgs, advertise := startProcCluster(t, pg.Get(t).NewDatabase(t))
	var alive atomic.Pointer[[]string]
	setAlive := func(ps ...*memberProc) {
		var addrs []string
		for _, p := range ps {
			addr, _ := p.state()
			addrs = append(addrs, addr)
		}
		alive.Store(&addrs)
	}
	setAlive(procs...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	start := func(n, first int) []*counterClient {
		cs := make([]*counterClient, n)
		for i := range cs {
			cs[i] = &counterClient{members: func() []string { return *alive.Load() }}
			wg.Add(1)
			go func() { defer wg.Done(); cs[i].run(ctx, first+i) }()
		}
		return cs
	}
	clients := start(60, 0)
	clientsCount(t, clients, 3, 60*time.Second)

	victim := procs[2]
	setAlive(procs[0], procs[1]) // clients that lose their connection move to the survivors
	killedAt, waiting := killProc(t, procs, advertise)
	clientsServedSince(t, clients, killedAt, 10*time.Second, "the kill of "+victim.advertise)
	for _, c := range waiting {
		c.Expect("timed out") // armed on the dead member, fired by a survivor
	}
	t.Logf("every ask timeout fired %v after the kill", time.Since(killedAt).Round(time.Millisecond))

	back := startMember(t, cfgs[2], advertise[2])
	restartedAt := time.Now()
	if !waitMembers([]*memberProc{procs[0], procs[1], back}, 3, 30*time.Second) {
		t.Fatal("the restarted member did not rejoin within 30s")
	}
	t.Logf("the restarted member serves and all see three members %v after its start", time.Since(restartedAt).Round(time.Millisecond))
	setAlive(procs[0], procs[1], back)
	defer func() {
		if t.Failed() { // each member's view, for the failure's cause
			for _, p := range []*memberProc{procs[0], procs[1], back} {
				addr, _ := p.state()
				api, err := admin.Dial(context.Background(), "http://"+addr, "")
				if err != nil {
					t.Logf("status of %s: %v", addr, err)
					continue
				}
				var st admin.Status
				err = api.Call("status", struct{}{}, &st)
				api.Close()
				t.Logf("status of %s: %+v %v", addr, st.Cluster, err)
			}
		}
	}()
	rejoined := time.Now()
	clientsServedSince(t, clients, rejoined, 10*time.Second, "the rejoin")
	checkShareBack(t, []*memberProc{procs[0], procs[1], back})
	newcomers := start(6, 2) // first address: the restarted member
	clientsCount(t, newcomers, 3, 30*time.Second)
	cancel()
	wg.Wait()
	for _, c := range append(clients, newcomers...) {
		if _, _, err := c.state(); err != nil {
			t.Error(err)
		}
	}
}

// clientsCount waits until every client's counter reached n.
func clientsCount(t *testing.T, clients []*counterClient, n int, within time.Duration) {
	t.Helper()
	if !poll(within, func() bool {
		for _, c := range clients {
			if last, _, _ := c.state(); last < n {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("not every client counted to %d within %v", n, within)
	}
}

// killProc has 6 conversations placed on procs[2] wait on their ask
// timeout (through the others), and kills procs[2] with SIGKILL before any
// is due. It returns when the kill happened, and the waiting clients.
func killProc(t *testing.T, procs []*memberProc, advertise []string) (time.Time, []*testkit.WSClient) {
	t.Helper()
	victim := procs[2]
	var waiting []*testkit.WSClient
	for i := range 6 {
		via, _ := procs[i%2].state()
		waiting = append(waiting, procOpenOn(t, via, advertise, victim.advertise))
	}
	armed := time.Now() // before the first timer is armed: finding the conversations may take long under load
	for _, c := range waiting {
		c.Say("wait")
	}
	for _, c := range waiting {
		c.Expect("waiting")
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	if due := armed.Add(procAskTimeout); !killedAt.Before(due) {
		t.Fatalf("the waiting conversations took %v to set up: their timers were due before the kill", killedAt.Sub(armed))
	}
	<-victim.exited
	t.Logf("killed %s", victim.advertise)
	return killedAt, waiting
}

// checkShareBack checks that the restarted member (the last of procs)
// owns shards, that the three views place every shard exactly once, and
// that it runs turns.
func checkShareBack(t *testing.T, procs []*memberProc) {
	t.Helper()
	total := 0
	for _, p := range procs {
		_, v := p.state()
		total += v.Owned
	}
	back := procs[len(procs)-1]
	addr, v := back.state()
	if v.Owned == 0 || total != cluster.Shards {
		t.Fatalf("after the restart the member owns %d shards, the three %d of %d", v.Owned, total, cluster.Shards)
	}
	var turns int
	if !poll(10*time.Second, func() bool {
		n, err := turnsOn(addr)
		turns = n
		return err == nil && n > 0
	}) {
		t.Fatalf("the restarted member ran no turn within 10s")
	}
	t.Logf("the restarted member owns %d of %d shards and ran %d turns", v.Owned, cluster.Shards, turns)
}

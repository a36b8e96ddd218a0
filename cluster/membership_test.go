package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	pacluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"go.uber.org/goleak"
)

func joinTest(t testing.TB, cfg MembershipConfig) *Membership {
	t.Helper()
	if cfg.Advertise == "" {
		cfg.Advertise = "127.0.0.1:0"
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := Join(ctx, cfg)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	return m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func addrs(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Address
	}
	return out
}

func sees(m *Membership, want ...*Membership) bool {
	var exp []string
	for _, w := range want {
		exp = append(exp, w.Self().Address)
	}
	slices.Sort(exp)
	return slices.Equal(addrs(m.Members()), exp)
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestThreeMembersSeeEachOtherAndSurviveAKill(t *testing.T) {
	// protoactor at the pinned version leaks these per member, Leave or not:
	// gossip throttles never stop, and remote never closes its grpc client
	// connections. Everything else (this package's goroutines) must end.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	agent := test.NewInMemAgent()
	ms := make([]*Membership, 3)
	var wg sync.WaitGroup
	for i := range ms { // concurrent joins: Join must allow them
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms[i] = joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
		}()
	}
	wg.Wait()
	a, b, c := ms[0], ms[1], ms[2]
	for _, m := range ms {
		waitFor(t, m.Self().Address+" to see 3 members", func() bool { return sees(m, a, b, c) })
		if err := m.CutOff(); err != nil {
			t.Fatalf("CutOff of a healthy member = %v", err)
		}
	}
	changes := make(chan []Member, 16)
	a.OnChange(func(l []Member) { changes <- l })
	if got := <-changes; !slices.Equal(got, a.Members()) {
		t.Fatalf("first OnChange = %v, want the current list %v", got, a.Members())
	}
	c.Kill()
	if err := c.CutOff(); !errors.Is(err, ErrStopped) {
		t.Fatalf("CutOff after Kill = %v", err)
	}
	waitFor(t, "a and b to see 2 members", func() bool { return sees(a, a, b) && sees(b, a, b) })
	got := <-changes
	if want := []string{a.Self().Address, b.Self().Address}; !slices.Equal(addrs(got), sortedCopy(want)) {
		t.Fatalf("OnChange after kill = %v, want %v", addrs(got), want)
	}
	leaveAll(t, a, b)
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func leaveAll(t testing.TB, ms ...*Membership) {
	t.Helper()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := m.Leave(ctx); err != nil {
				t.Errorf("Leave: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := ms[0].Leave(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("second Leave = %v, want ErrStopped", err)
	}
}

func TestMemberBlockedByAPeerIsCutOff(t *testing.T) {
	agent := test.NewInMemAgent()
	a := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	b := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	defer b.Kill()
	defer a.Kill()
	waitFor(t, "both to see 2", func() bool { return sees(a, a, b) && sees(b, a, b) })
	cuts := make(chan error, 4)
	a.OnCutOff(func(err error) { cuts <- err })
	// b ejects a, as automanaged does after one failed health poll
	host, port, err := b.sys.GetHostPort()
	if err != nil {
		t.Fatal(err)
	}
	b.cl.MemberList.UpdateClusterTopology([]*pacluster.Member{{Id: b.Self().ID, Host: host,
		Port: int32(port), Kinds: []string{Kind}}})
	waitFor(t, "a to be cut off", func() bool { return a.CutOff() != nil })
	want := "cluster: this member is on the cluster's block list: member " + b.Self().Address + " blocks it"
	if got := errText(a.CutOff()); got != want {
		t.Fatalf("CutOff = %q, want %q", got, want)
	}
	if got := errText(<-cuts); got != want {
		t.Fatalf("OnCutOff got %q, want %q", got, want)
	}
	if !sees(b, b) {
		t.Fatalf("b still lists the member it blocked: %v", b.Members())
	}
}

func TestMemberWithoutMajorityIsCutOffUntilOthersJoin(t *testing.T) {
	agent := test.NewInMemAgent()
	conf := []string{"x:1", "x:2", "x:3"} // only the count matters with the test provider
	a := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent, Members: conf})
	defer a.Kill()
	cuts := make(chan error, 4)
	a.OnCutOff(func(err error) { cuts <- err })
	want := "cluster: this member sees no majority of the configured members: it sees 1 of 3 configured members, a majority is 2"
	if got := errText(a.CutOff()); got != want {
		t.Fatalf("CutOff alone = %q, want %q", got, want)
	}
	if got := errText(<-cuts); got != want {
		t.Fatalf("OnCutOff alone = %q, want %q", got, want)
	}
	b := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent, Members: conf})
	defer b.Kill()
	if got := <-cuts; got != nil {
		t.Fatalf("OnCutOff after a second member joined = %v, want nil", got)
	}
	if err := a.CutOff(); err != nil {
		t.Fatalf("CutOff with 2 of 3 = %v", err)
	}
}

func TestJoinRefusesBadConfig(t *testing.T) {
	cases := []struct {
		cfg  MembershipConfig
		want string
	}{
		{MembershipConfig{Provider: "zk", Advertise: "127.0.0.1:0"},
			`cluster: invalid membership config: provider "zk": want test, automanaged, etcd or k8s`},
		{MembershipConfig{Provider: "test", Advertise: "127.0.0.1:0"},
			"cluster: invalid membership config: provider test needs TestAgent"},
		{MembershipConfig{Provider: "test", Advertise: "nohostport"},
			`cluster: invalid membership config: advertise "nohostport": address nohostport: missing port in address`},
		{MembershipConfig{Provider: "test", Advertise: ":7000"},
			`cluster: invalid membership config: advertise ":7000": needs a host other members can reach`},
		{MembershipConfig{Provider: "test", Advertise: "127.0.0.1:65535"},
			`cluster: invalid membership config: advertise "127.0.0.1:65535": bad port`},
		{MembershipConfig{Provider: "automanaged", Advertise: "127.0.0.1:0", Members: []string{"127.0.0.1:0"}},
			`cluster: invalid membership config: provider automanaged: advertise "127.0.0.1:0" needs a fixed port (the others poll port+1)`},
		{MembershipConfig{Provider: "automanaged", Advertise: "127.0.0.1:7000", Members: []string{"127.0.0.1:7002"}},
			`cluster: invalid membership config: provider automanaged: advertise "127.0.0.1:7000" is not in members [127.0.0.1:7002]`},
		{MembershipConfig{Provider: "automanaged", Advertise: "127.0.0.1:7000", Members: []string{"127.0.0.1:7000", "h"}},
			`cluster: invalid membership config: provider automanaged: member "h" is not host:port`},
	}
	for _, c := range cases {
		_, err := Join(context.Background(), c.cfg)
		if got := errText(err); got != c.want {
			t.Errorf("Join(%+v)\n got %s\nwant %s", c.cfg, got, c.want)
		}
	}
}

// freePortPair finds a port p with 127.0.0.1:p and :p+1 both free.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", ":"+strconv.Itoa(p+1))
		_ = l.Close()
		if err == nil {
			_ = l2.Close()
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

func TestAutomanagedEjectedMemberIsCutOff(t *testing.T) {
	p1, p2 := freePortPair(t), freePortPair(t)
	members := []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)}
	cfg := func(adv string) MembershipConfig {
		return MembershipConfig{Provider: "automanaged", Advertise: adv, Members: members,
			RefreshTTL: 100 * time.Millisecond}
	}
	a := joinTest(t, cfg(members[0]))
	defer a.Kill()
	b := joinTest(t, cfg(members[1]))
	defer b.Kill()
	waitFor(t, "both to see 2", func() bool { return sees(a, a, b) && sees(b, a, b) })
	if err := errors.Join(a.CutOff(), b.CutOff()); err != nil {
		t.Fatalf("CutOff with both up: %v", err)
	}
	a.prov.kill() // a's health endpoint stops: b's next poll fails and ejects a for good
	waitFor(t, "b to eject a", func() bool { return sees(b, b) })
	waitFor(t, "a to find itself cut off", func() bool { return errors.Is(a.CutOff(), ErrBlocked) })
	want := "cluster: this member is on the cluster's block list: member " + b.Self().Address + " blocks it"
	if got := errText(a.CutOff()); got != want {
		t.Fatalf("a.CutOff = %q, want %q", got, want)
	}
	want = "cluster: this member sees no majority of the configured members: it sees 1 of 2 configured members, a majority is 2"
	if got := errText(b.CutOff()); got != want {
		t.Fatalf("b.CutOff = %q, want %q", got, want)
	}
}

func TestJoinFailsWhenTheHealthPortIsTaken(t *testing.T) {
	p := freePortPair(t)
	l, err := net.Listen("tcp", ":"+strconv.Itoa(p+1))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	adv := fmt.Sprintf("127.0.0.1:%d", p)
	_, err = Join(context.Background(), MembershipConfig{Provider: "automanaged", Advertise: adv, Members: []string{adv}})
	if !errors.Is(err, ErrJoin) {
		t.Fatalf("Join = %v, want ErrJoin", err)
	}
	want := fmt.Sprintf("cluster: join failed: provider automanaged: health port %d: listen tcp :%d: bind: address already in use", p+1, p+1)
	if got := errText(err); got != want {
		t.Fatalf("Join\n got %s\nwant %s", got, want)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The cluster as real processes: each member is this test binary re-run
// as TestServeChild, which runs `botserver serve` on a config file. The
// parent reads the child's stdout ("botserver is serving on URL") and its
// JSON log on stderr ("cluster view" lines: members, owned_shards).

// serveChildEnv names the config file a child serves.
const serveChildEnv = "BOTSERVER_SERVE_CHILD"

// TestServeChild is one member process of TestClusterProcesses: `botserver
// serve -config $BOTSERVER_SERVE_CHILD -log-format json`, until SIGTERM
// (or SIGKILL).
func TestServeChild(t *testing.T) {
	cfg := os.Getenv(serveChildEnv)
	if cfg == "" {
		t.Skip("run by TestClusterProcesses")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if code := run(ctx, []string{"serve", "-config", cfg, "-log-format", "json"}, stdio{nil, os.Stdout, os.Stderr}); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

// clusterView is a member's last "cluster view" log line.
type clusterView struct {
	Members int `json:"members"`
	Owned   int `json:"owned_shards"`
}

// memberProc is one `botserver serve` child process.
type memberProc struct {
	advertise string // its cluster address
	cmd       *exec.Cmd
	exited    chan struct{} // closed once the process is gone

	mu   sync.Mutex
	addr string       // its HTTP host:port, once it serves
	view *clusterView // its last cluster view
	tail []string     // its last log lines
	// defects are the log lines that report a defect the member repaired
	// (a connection's conversation without its record, cluster/gateway.go):
	// the test fails if there are any
	defects []string
}

// defectLog is the message of the log line a member writes when it finds a
// connection's conversation without its record.
const defectLog = "a conversation with a connection here had no record; recorded again"

// startMember starts a child serving the config file cfg. t's cleanup
// kills it; if the test failed, the end of its log is shown.
func startMember(t *testing.T, cfg, advertise string) *memberProc {
	t.Helper()
	p := &memberProc{advertise: advertise, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	p.cmd.Env = append(os.Environ(), serveChildEnv+"="+cfg)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
	stdout, err1 := p.cmd.StdoutPipe()
	stderr, err2 := p.cmd.StderrPipe()
	if err := firstErr(err1, err2, p.cmd.Start()); err != nil {
		t.Fatalf("member %s: %v", advertise, err)
	}
	var reading sync.WaitGroup
	reading.Add(2)
	go func() { defer reading.Done(); p.readStdout(stdout) }()
	go func() { defer reading.Done(); p.readLog(keepLog(t, stderr, advertise, p.cmd.Process.Pid)) }()
	go func() {
		reading.Wait() // Wait closes the pipes: read them to the end first
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if len(p.defects) > 0 {
			t.Errorf("member %s repaired a defect:\n%s", advertise, strings.Join(p.defects, "\n"))
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("member %s, last log lines:\n%s", advertise, strings.Join(p.tail, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *memberProc) readStdout(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "botserver is serving on http://"); ok {
			p.mu.Lock()
			p.addr = u
			p.mu.Unlock()
		}
	}
}

// logDirEnv names a folder where each member's whole log is kept (for a
// failure's cause; without it, a failed test shows each log's end).
const logDirEnv = "BOTSERVER_PROCS_LOGDIR"

// keepLog returns the member's log, also written to a file in
// $BOTSERVER_PROCS_LOGDIR if set.
func keepLog(t *testing.T, log io.Reader, advertise string, pid int) io.Reader {
	dir := os.Getenv(logDirEnv)
	if dir == "" {
		return log
	}
	name := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.log", time.Now().Format("150405"), strings.ReplaceAll(advertise, ":", "_"), pid))
	f, err := os.Create(name)
	if err != nil {
		t.Logf("cannot keep the log of %s: %v", advertise, err)
		return log
	}
	t.Logf("the log of member %s (pid %d) is kept in %s", advertise, pid, name)
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(io.MultiWriter(f, pw), log)
		f.Close()
		pw.CloseWithError(err)
	}()
	return pr
}

// readLog keeps the last 40 lines of the member's log and its last
// cluster view.
func (p *memberProc) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var rec struct {
			Msg string `json:"msg"`
			clusterView
		}
		json.Unmarshal([]byte(line), &rec) // a line that is not JSON only goes to the tail
		p.mu.Lock()
		switch rec.Msg {
		case "cluster view":
			v := rec.clusterView
			p.view = &v
		case defectLog:
			p.defects = append(p.defects, line)
		}
		p.tail = append(p.tail, line)
		if len(p.tail) > 40 {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
	}
}

// state returns the member's HTTP address ("" until it serves) and its
// last cluster view (nil before the first).
func (p *memberProc) state() (string, *clusterView) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr, p.view
}

func (p *memberProc) gone() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// poll checks cond every 20 ms until it holds (true) or within passes.
// Unlike pollUntil it leaves the CPU to the member processes meanwhile.
func poll(within time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}

// freeClusterPorts returns n cluster ports p, each with p+1 (automanaged's
// health port) free too, all 2n distinct: they are held open together,
// then closed for the members to bind.
func freeClusterPorts(t *testing.T, n int) []int {
	t.Helper()
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	var ports []int
	for range 100 {
		if len(ports) == n {
			return ports
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p >= 65535 {
			continue
		}
		h, err := net.Listen("tcp", ":"+strconv.Itoa(p+1)) // as automanaged binds it
		if err != nil {
			continue // taken: pick another
		}
		held = append(held, h)
		ports = append(ports, p)
	}
	t.Fatalf("no %d free port pairs in 100 tries", n)
	return nil
}

// writeMemberConfigs writes one config per cluster port: the counter bot
// (script src) over the store db, automanaged over all the ports.
func writeMemberConfigs(t *testing.T, db, src string, ports []int) (cfgs, advertise []string) {
	t.Helper()
	dir := t.TempDir()
	bots := filepath.Join(dir, "counter")
	if err := os.Mkdir(bots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bots, "main.bot"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		advertise = append(advertise, "127.0.0.1:"+strconv.Itoa(p))
	}
	for i, a := range advertise {
		raw, _ := json.Marshal(map[string]any{"listen": "127.0.0.1:0", "store": db,
			"bots":    []map[string]string{{"id": "counter", "scripts": bots}},
			"cluster": map[string]any{"provider": "automanaged", "advertise": a, "members": advertise}})
		cfgs = append(cfgs, filepath.Join(dir, fmt.Sprintf("member%d.json", i)))
		if err := os.WriteFile(cfgs[i], raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cfgs, advertise
}

// turnsOn reads the member's botserver_turns_total of the counter bot.
func turnsOn(addr string) (int, error) {
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `botserver_turns_total{bot="counter"} `); ok {
			n, err := strconv.ParseFloat(v, 64)
			return int(n), err
		}
	}
	return 0, sc.Err()
}

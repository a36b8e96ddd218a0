package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"botserver/bench/loadgen/load"
)

func main() {
	var cfg load.Config
	flag.StringVar(&cfg.URL, "url", "", "websocket URL, e.g. ws://127.0.0.1:8090/ws/echo (required, loopback only); several, comma-separated, spread the clients over them in turn")
	flag.IntVar(&cfg.Clients, "clients", load.DefaultClients, "concurrent clients")
	flag.IntVar(&cfg.Messages, "messages", load.DefaultMessages, "measured messages per client")
	flag.DurationVar(&cfg.Timeout, "timeout", load.DefaultTimeout, "bound on the whole run")
	flag.IntVar(&cfg.Warmup, "warmup", 0, "unmeasured messages per client before measuring")
	idle := flag.Int("idle", 0, "instead of messages: hold this many idle connections")
	hold := flag.Duration("hold", time.Minute, "with -idle: how long to hold them")
	pid := flag.Int("server-pid", 0, "with -idle: the server's process id, to report its RSS")
	debugURL := flag.String("debug-url", "", "with -idle: the server's pprof base URL (botserver serve -debug-addr), to count its goroutines")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	if cfg.URL == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		flag.Usage()
		os.Exit(2)
	}
	if strings.Contains(cfg.URL, ",") {
		if *idle > 0 {
			fmt.Fprintln(os.Stderr, "loadgen: -idle takes one -url")
			os.Exit(2)
		}
		cfg.URLs = strings.Split(cfg.URL, ",")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var res interface{ String() string }
	var errors int64
	var err error
	if *idle > 0 {
		var r load.IdleResult
		r, err = load.Idle(ctx, load.IdleConfig{URL: cfg.URL, Conns: *idle, Hold: *hold, Sample: sampler(*pid, *debugURL)})
		res, errors = r, r.Errors+int64(r.Dropped)
	} else {
		var r load.Result
		r, err = load.Run(ctx, cfg)
		res, errors = r, r.Errors
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		fmt.Println(res)
	}
	if errors > 0 {
		os.Exit(1)
	}
}

// sampler reads the server's RSS from /proc and its goroutine count from
// its pprof endpoint; either may be absent.
func sampler(pid int, debugURL string) func() (load.Sample, error) {
	return func() (load.Sample, error) {
		var s load.Sample
		if pid > 0 {
			rss, err := vmRSS(pid)
			if err != nil {
				return s, err
			}
			s.RSS = rss
		}
		if debugURL != "" {
			n, err := goroutines(strings.TrimSuffix(debugURL, "/"))
			if err != nil {
				return s, err
			}
			s.Goroutines = n
		}
		return s, nil
	}
}

func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

func goroutines(base string) (int, error) {
	resp, err := http.Get(base + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	_, n, ok := strings.Cut(strings.TrimSpace(line), "total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile %q", line)
	}
	return strconv.Atoi(n)
}

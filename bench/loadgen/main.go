package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"botserver/bench/loadgen/load"
)

func main() {
	var cfg load.Config
	flag.StringVar(&cfg.URL, "url", "", "websocket URL, e.g. ws://127.0.0.1:8090/ws/echo (required, loopback only)")
	flag.IntVar(&cfg.Clients, "clients", load.DefaultClients, "concurrent clients")
	flag.IntVar(&cfg.Messages, "messages", load.DefaultMessages, "measured messages per client")
	flag.DurationVar(&cfg.Timeout, "timeout", load.DefaultTimeout, "bound on the whole run")
	flag.IntVar(&cfg.Warmup, "warmup", 0, "unmeasured messages per client before measuring")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	if cfg.URL == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := load.Run(ctx, cfg)
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
	if res.Errors > 0 {
		os.Exit(1)
	}
}

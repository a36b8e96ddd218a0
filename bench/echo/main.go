package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"botserver/bench/echo/echoserver"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "loopback address to listen on")
	durable := flag.String("durable", "", "append every message to this file and reply once an fdatasync covers it")
	flag.Parse()
	if err := run(*listen, *durable); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(addr, durable string) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
	handler := echoserver.Handler()
	if durable != "" {
		log, err := echoserver.OpenLog(durable)
		if err != nil {
			return err
		}
		defer log.Close()
		handler = echoserver.DurableHandler(log)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on ws://%s/ws/echo\n", ln.Addr())
	return srv.Serve(ln)
}

// checkLoopback accepts "localhost:PORT" or a loopback IP literal only.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad -listen %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("refusing to listen on non-loopback address " + addr + " (use 127.0.0.1 or ::1)")
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"botserver/admin"
	"botserver/config"
)

// runStatus prints the status table of a running server.
func runStatus(ctx context.Context, args []string, std stdio) int {
	stdout, stderr := std.out, std.err
	fs := newFlags("status", std)
	addr := fs.String("addr", "http://"+config.DefaultListen, "the server's URL")
	token := fs.String("token", os.Getenv("BOTSERVER_ADMIN_TOKEN"), "the admin token (default $BOTSERVER_ADMIN_TOKEN)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c, err := admin.Dial(ctx, *addr, *token)
	if err != nil {
		fmt.Fprintln(stderr, "botserver status:", err)
		return 1
	}
	defer c.Close()
	var st admin.Status
	if err := c.Call("status", struct{}{}, &st); err != nil {
		fmt.Fprintln(stderr, "botserver status:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return 0
	}
	printStatus(stdout, st)
	return 0
}

func printStatus(w io.Writer, st admin.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BOT\tID\tMASTER\tSESSIONS\tGROUPS\tPLATFORMS\tWEB URL")
	for _, b := range st.Bots {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", b.Name, b.ID, b.Master, b.Sessions, b.Groups, strings.Join(b.Platforms, ","), b.WebURL)
	}
	tw.Flush()
	if len(st.Cluster) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER	SHARDS	FORWARDED	RECEIVED	RESENT	HANDOVERS	FENCED	PENDING	STATE")
	for _, c := range st.Cluster {
		state := "serving"
		switch {
		case c.Error != "":
			state = c.Error
		case c.CutOff != "":
			state = "cut off: " + c.CutOff
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", c.Self, c.OwnedShards, c.Shards, c.Forwarded, c.Received, c.Resent, c.Handovers, c.Fenced, c.Pending, state)
	}
	tw.Flush()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"botserver/bots"
	"botserver/config"
	"botserver/dsl"
)

// runCheck compiles each bot folder and prints every error, or a one-line
// summary per good bot. It exits 1 when any folder has errors.
func runCheck(_ context.Context, args []string, std stdio) int {
	return forEachDir("check", args, std, checkDir)
}

// forEachDir runs a command that takes bot folders: usage errors exit 2,
// a folder that fails makes it exit 1.
func forEachDir(name string, args []string, std stdio, run func(dir string, stdout, stderr io.Writer) bool) int {
	fs := newFlags(name, std)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(std.err, "usage: botserver %s DIR...\n", name)
		return 2
	}
	code := 0
	for _, dir := range fs.Args() {
		if !run(dir, std.out, std.err) {
			code = 1
		}
	}
	return code
}

func checkDir(dir string, stdout, stderr io.Writer) bool {
	bot, err := dsl.LoadBot(os.DirFS(dir))
	if err != nil {
		var list dsl.ErrorList
		if !errors.As(err, &list) {
			fmt.Fprintf(stderr, "%s: %v\n", dir, err)
			return false
		}
		for _, e := range list {
			fmt.Fprintf(stderr, "%s\n", bots.Prefixed(dir, e))
		}
		fmt.Fprintf(stderr, "%s: %s\n", dir, plural(len(list), "error", "errors"))
		return false
	}
	fmt.Fprintln(stdout, summary(dir, bot))
	return true
}

func summary(dir string, bot *dsl.Bot) string {
	var parts []string
	for _, r := range []dsl.Role{dsl.RoleSession, dsl.RoleMaster, dsl.RoleGroup} {
		if p := bot.Program(r); p != nil {
			parts = append(parts, fmt.Sprintf("%s (%s, %s)", p.File, plural(p.Lines(), "line", "lines"), plural(len(p.Procs), "dialog/task", "dialogs/tasks")))
		}
	}
	return fmt.Sprintf("%s: ok: %s; %s", dir, strings.Join(parts, ", "), plural(len(bot.Transcripts), "transcript", "transcripts"))
}

// clusterSummary is serve -check's line about a valid cluster section (""
// on a single node): provider, name, this member's ports and the members.
func clusterSummary(c *config.ClusterConfig) string {
	if c == nil {
		return ""
	}
	parts := []string{fmt.Sprintf("cluster: %s %q, advertise %s", c.Provider, c.Name, c.Advertise)}
	if _, port, err := net.SplitHostPort(c.Advertise); err == nil && c.Provider == config.ProviderAutomanaged {
		n, _ := strconv.Atoi(port)
		parts[0] += fmt.Sprintf(" (health port %d)", config.HealthPort(n))
	}
	switch c.Provider {
	case config.ProviderEtcd:
		parts = append(parts, "etcd "+strings.Join(c.Etcd, " "))
	case config.ProviderK8s:
		ns := c.K8sNamespace
		if ns == "" {
			ns = "of the pod"
		}
		parts = append(parts, "namespace "+ns)
	}
	if len(c.Members) > 0 {
		parts = append(parts, fmt.Sprintf("%s (majority %d): %s", plural(len(c.Members), "member", "members"), c.Majority(), strings.Join(c.Members, " ")))
	}
	return strings.Join(parts, ", ")
}

// plural is "1 line" or "2 lines".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

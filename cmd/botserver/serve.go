package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// runServe will run the server. Until the actor runtime lands it validates
// the example bots and says so.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dirs, err := filepath.Glob(filepath.Join("scripts", "examples", "*"))
	if err != nil || len(dirs) == 0 {
		fmt.Fprintln(stderr, "botserver serve: no bots under scripts/examples (run it from the repository root)")
		return 1
	}
	ok := true
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			ok = checkDir(d, stdout, stderr) && ok
		}
	}
	fmt.Fprintln(stdout, "botserver serve: the bots compile; the server runtime is not built yet (see README, Status)")
	if !ok {
		return 1
	}
	return 0
}

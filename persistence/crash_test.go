package persistence

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// crashChildEnv makes the test binary act as a writer that reports each
// durable write on stdout and never closes the DB (it is killed).
const crashChildEnv = "PERSISTENCE_CRASH_CHILD_DIR"

func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	dir, acked := crashedDir(t, 2000)
	s := mustBot(t, openDB(t, dir, Options{}), "crash")
	for _, n := range acked {
		wantValue(t, s, StateKey(strconv.Itoa(n)), []byte(strconv.Itoa(n)))
	}
}

// crashedDir runs a child process that writes to a store in a new dir until
// wantAcks writes are durable, kills it, and returns the dir and the
// numbers of the writes acknowledged.
func crashedDir(t *testing.T, wantAcks int) (string, []int) {
	t.Helper()
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return "", nil
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []int
	lines := bufio.NewScanner(out)
	for len(acked) < wantAcks && lines.Scan() {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			acked = append(acked, n)
		}
	}
	cmd.Process.Kill() // no Close: badger must recover from its WAL
	cmd.Wait()
	if len(acked) < wantAcks {
		t.Fatalf("child acknowledged %d writes before exiting; want %d", len(acked), wantAcks)
	}
	return dir, acked
}

// crashChild writes until killed, printing the number of each write once its
// done callback reports it durable.
func crashChild(dir string) {
	db, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	s, _ := db.Bot("crash")
	acks := make(chan int, 1024)
	go func() {
		w := bufio.NewWriter(os.Stdout)
		for n := range acks {
			fmt.Fprintln(w, n)
			if len(acks) == 0 {
				w.Flush()
			}
		}
	}()
	sem := make(chan struct{}, 256)
	for n := 0; ; n++ {
		sem <- struct{}{}
		key := strconv.Itoa(n)
		s.Write([]Op{{Key: StateKey(key), Value: []byte(key), Version: 1}}, func(err error) {
			if err == nil {
				acks <- n
			}
			<-sem
		})
	}
}

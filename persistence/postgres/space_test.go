package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"testing"

	"botserver/persistence"
)

// A full disk under the table (its tablespace on a 4 MiB tmpfs): writes
// fail with ErrNoSpace and apply nothing, reads go on, and writes resume
// once there is space (the table moved back).
func TestDiskFull(t *testing.T) {
	st := openStore(t, "full", Options{})
	mnt, err := os.MkdirTemp("", "pgfull-") // the server's user must reach it: not under t.TempDir
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(mnt) })
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	if u, err := user.Lookup("postgres"); err == nil && os.Geteuid() == 0 {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		os.Chown(mnt, uid, gid)
	}
	ctx := context.Background()
	space := fmt.Sprintf("full_%d", os.Getpid())
	exec := func(sql string) {
		t.Helper()
		if _, err := st.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(fmt.Sprintf("CREATE TABLESPACE %s LOCATION '%s'", space, mnt))
	t.Cleanup(func() { st.pool.Exec(ctx, "DROP TABLESPACE IF EXISTS "+space) })
	k, _ := st.Keys("b")
	if err := k.WriteSync(persistence.Op{Key: "before", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	exec("ALTER TABLE kv SET TABLESPACE " + space)

	value := make([]byte, 256<<10) // incompressible: it takes its room
	for i := 0; i < 100 && err == nil; i++ {
		rand.Read(value)
		err = k.WriteSync(persistence.Op{Key: fmt.Sprintf("big/%d", i), Value: value})
	}
	if !errors.Is(err, persistence.ErrNoSpace) {
		t.Fatalf("writing 25 MiB into 4 MiB ended with %v; want ErrNoSpace", err)
	}
	if v, err := k.Get("before"); err != nil || string(v) != "1" {
		t.Errorf("read with the disk full = %q, %v", v, err)
	}
	exec("ALTER TABLE kv SET TABLESPACE pg_default")
	if err := k.WriteSync(persistence.Op{Key: "after", Value: []byte("2")}); err != nil {
		t.Errorf("write once there is space: %v", err)
	}
}

package config

import "testing"

// TestStoreFields: store and data_dir, from the file and the environment,
// resolve to one store; contradictions are refused with a message naming
// the field, and a URL's password never appears in one.
func TestStoreFields(t *testing.T) {
	const pgURL = "postgres://bs:s3cret@db.example:5432/botserver"
	tests := []struct {
		name           string
		store, dataDir string
		env            map[string]string
		wantStore      string
		wantDir        string
		wantErr        string
	}{
		{name: "defaults", wantStore: "./data", wantDir: "./data"},
		{name: "data_dir only", dataDir: "/srv/d", wantStore: "/srv/d", wantDir: "/srv/d"},
		{name: "store dir only", store: "/srv/s", wantStore: "/srv/s", wantDir: "/srv/s"},
		{name: "both agree", store: "/srv/s", dataDir: "/srv/s", wantStore: "/srv/s", wantDir: "/srv/s"},
		{name: "both differ", store: "/srv/s", dataDir: "/srv/d", wantStore: "/srv/s", wantDir: "/srv/d",
			wantErr: `store: "/srv/s" and data_dir "/srv/d" name different data dirs (data_dir is the older spelling: give one)`},
		{name: "url", store: pgURL, wantStore: pgURL},
		{name: "url and data_dir", store: pgURL, dataDir: "/srv/d", wantStore: pgURL, wantDir: "/srv/d",
			wantErr: `data_dir: "/srv/d" cannot be used with a postgres:// store (give one of them)`},
		{name: "url without host", store: "postgres://bs:s3cret@/botserver", wantStore: "postgres://bs:s3cret@/botserver",
			wantErr: `store: "postgres://bs:xxxxx@/botserver" must be postgres://[user[:password]@]host[:port]/database`},
		{name: "other scheme", store: "mysql://db/x", wantStore: "mysql://db/x", wantDir: "mysql://db/x",
			wantErr: `store: "mysql://db/x" must be a data dir or a postgres:// URL`},
		{name: "env store replaces the file's data_dir", dataDir: "/srv/d", env: map[string]string{"BOTSERVER_STORE": pgURL}, wantStore: pgURL},
		{name: "env data dir replaces the file's store", store: pgURL, env: map[string]string{"BOTSERVER_DATA_DIR": "/srv/e"}, wantStore: "/srv/e", wantDir: "/srv/e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Store: tt.store, DataDir: tt.dataDir}
			c.ApplyEnv(func(k string) string { return tt.env[k] })
			if c.Store != tt.wantStore || c.DataDir != tt.wantDir {
				t.Errorf("store %q data_dir %q, want %q %q", c.Store, c.DataDir, tt.wantStore, tt.wantDir)
			}
			err := c.ValidateStore()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("got %v\nwant %s", err, tt.wantErr)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://bs:s3cret@db:5432/x":               "postgres://bs:xxxxx@db:5432/x",
		"postgres://bs@db/x?sslmode=disable":           "postgres://bs@db/x?sslmode=disable",
		"postgresql://db/x?password=s3cret&user=bs":    "postgresql://db/x?password=xxxxx&user=bs",
		"postgres://bs:s3cret@db/x?password=s3cret":    "postgres://bs:xxxxx@db/x?password=xxxxx",
		"postgres://bs:s3cret@db:99999999999999/x\x7f": "postgres://(unparsable URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	c := Config{Store: "postgres://bs:s3cret@db/x"}
	if got := c.StoreName(); got != "postgres://bs:xxxxx@db/x" {
		t.Errorf("StoreName %q", got)
	}
}

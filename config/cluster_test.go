package config

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const clusterPG = "postgres://bs@db.example:5432/botserver"

// clusterConfig is a valid config (but for its cluster section) with
// cluster cl, as ApplyEnv leaves it.
func clusterConfig(t *testing.T, cl *ClusterConfig) Config {
	t.Helper()
	c := Config{Listen: "0.0.0.0:8080", Store: clusterPG, Cluster: cl,
		Bots: []BotConfig{{ID: "echo", Scripts: t.TempDir()}}}
	c.ApplyEnv(func(string) string { return "" })
	return c
}

var threeMembers = []string{"10.0.0.5:7000", "10.0.0.6:7000", "10.0.0.7:7000"}

// TestClusterValidate: every accepted shape of the section, and every
// refusal with its exact message naming the field and the value.
func TestClusterValidate(t *testing.T) {
	tests := []struct {
		name string
		cl   ClusterConfig
		want string // "" for valid; else the whole error
	}{
		{name: "automanaged", cl: ClusterConfig{Provider: "automanaged", Name: "prod", Advertise: "10.0.0.5:7000", Members: threeMembers}},
		{name: "automanaged with host names", cl: ClusterConfig{Provider: "automanaged", Advertise: "bs-1.internal:7000", Members: []string{"bs-1.internal:7000", "bs-2.internal:7000"}}},
		{name: "k8s without members", cl: ClusterConfig{Provider: "k8s", Advertise: "10.1.2.3:7000", K8sNamespace: "bots"}},
		{name: "k8s with the expected members", cl: ClusterConfig{Provider: "k8s", Advertise: "botserver-0.botserver:7000",
			Members: []string{"botserver-0.botserver:7000", "botserver-1.botserver:7000", "botserver-2.botserver:7000"}}},
		{name: "etcd", cl: ClusterConfig{Provider: "etcd", Advertise: "10.0.0.5:7000", Etcd: []string{"10.0.0.9:2379", "https://etcd.internal:2379"}}},
		{name: "test in code, free port", cl: ClusterConfig{Provider: "test", Advertise: "127.0.0.1:0"}},

		{name: "no provider", cl: ClusterConfig{Advertise: "10.0.0.5:7000"},
			want: `cluster.provider: "" must be automanaged, k8s or etcd`},
		{name: "unknown provider", cl: ClusterConfig{Provider: "consul", Advertise: "10.0.0.5:7000"},
			want: `cluster.provider: "consul" must be automanaged, k8s or etcd`},
		{name: "bad name", cl: ClusterConfig{Provider: "k8s", Name: "Prod_1", Advertise: "10.0.0.5:7000"},
			want: `cluster.name: "Prod_1" must match [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`},
		{name: "no advertise", cl: ClusterConfig{Provider: "k8s"},
			want: `cluster.advertise: "" is required: the host:port the other members reach this member's cluster port at`},
		{name: "advertise without port", cl: ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5"},
			want: `cluster.advertise: "10.0.0.5" must be host:port`},
		{name: "advertise without host", cl: ClusterConfig{Provider: "k8s", Advertise: ":7000"},
			want: `cluster.advertise: ":7000" must be host:port`},
		{name: "wildcard v4", cl: ClusterConfig{Provider: "k8s", Advertise: "0.0.0.0:7000"},
			want: `cluster.advertise: "0.0.0.0:7000" must name the member's host, not a wildcard address (the other members connect to it)`},
		{name: "wildcard v6", cl: ClusterConfig{Provider: "etcd", Advertise: "[::]:7000", Etcd: []string{"e:2379"}},
			want: `cluster.advertise: "[::]:7000" must name the member's host, not a wildcard address (the other members connect to it)`},
		{name: "port 0 outside tests", cl: ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5:0"},
			want: `cluster.advertise: "10.0.0.5:0" must have a port between 1 and 65535`},
		{name: "automanaged needs the next port", cl: ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:65535", Members: []string{"10.0.0.5:65535"}},
			want: `cluster.advertise: "10.0.0.5:65535" must have a port between 1 and 65534 (automanaged's health port is the next one)` + "\n" +
				`cluster.members[0]: "10.0.0.5:65535" must have a port between 1 and 65534 (automanaged's health port is the next one)`},
		{name: "advertise on listen's port", cl: ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5:8080"},
			want: `cluster.advertise: "10.0.0.5:8080" has the port of listen "0.0.0.0:8080" (the cluster needs a port of its own)`},
		{name: "health port on listen's port", cl: ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:8079", Members: []string{"10.0.0.5:8079"}},
			want: `cluster.advertise: "10.0.0.5:8079" needs port 8080 for automanaged's health endpoint, which is the port of listen "0.0.0.0:8080"`},
		{name: "automanaged without members", cl: ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:7000"},
			want: `cluster.members: [] must list every member's advertise address (provider automanaged)`},
		{name: "automanaged without itself", cl: ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.8:7000", Members: threeMembers},
			want: `cluster.advertise: "10.0.0.8:7000" is not in cluster.members (every member lists itself too)`},
		{name: "bad and repeated members", cl: ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:7000",
			Members: []string{"10.0.0.5:7000", "10.0.0.6", "0.0.0.0:7000", "10.0.0.5:7000"}},
			want: `cluster.members[1]: "10.0.0.6" must be host:port` + "\n" +
				`cluster.members[2]: "0.0.0.0:7000" must name the member's host, not a wildcard address (the other members connect to it)` + "\n" +
				`cluster.members[3]: "10.0.0.5:7000" is also cluster.members[0]`},
		{name: "etcd without endpoints", cl: ClusterConfig{Provider: "etcd", Advertise: "10.0.0.5:7000"},
			want: `cluster.etcd: [] must list the etcd endpoints (provider etcd)`},
		{name: "bad etcd endpoints", cl: ClusterConfig{Provider: "etcd", Advertise: "10.0.0.5:7000", Etcd: []string{"etcd", "ftp://e:2379", "e:99999"}},
			want: `cluster.etcd[0]: "etcd" must be host:port or an http:// or https:// URL` + "\n" +
				`cluster.etcd[1]: "ftp://e:2379" must be host:port or an http:// or https:// URL` + "\n" +
				`cluster.etcd[2]: "e:99999" must be host:port or an http:// or https:// URL`},
		{name: "etcd with another provider", cl: ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5:7000", Etcd: []string{"e:2379"}},
			want: `cluster.etcd: ["e:2379"] is only used with provider etcd`},
		{name: "namespace with another provider", cl: ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:7000", Members: threeMembers, K8sNamespace: "bots"},
			want: `cluster.k8s_namespace: "bots" is only used with provider k8s`},
		{name: "bad namespace", cl: ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5:7000", K8sNamespace: "Bots"},
			want: `cluster.k8s_namespace: "Bots" must match [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := tt.cl
			c := clusterConfig(t, &cl)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error:\n%v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("got\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

// TestClusterNeedsPostgres: a clustered node refuses a data dir, both in
// Validate and in ValidateStore (which runs before the store is opened, so
// no data dir is created).
func TestClusterNeedsPostgres(t *testing.T) {
	for _, store := range []string{"", "/srv/data"} {
		c := clusterConfig(t, &ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5:7000"})
		c.Store, c.DataDir = store, ""
		shown := store
		if store == "" {
			shown = DefaultDataDir
		}
		want := `store: "` + shown + `" is a data dir: a clustered node needs a postgres:// store: each node would see its own data dir`
		if err := c.ValidateStore(); err == nil || err.Error() != want {
			t.Errorf("ValidateStore with %q: %v\nwant %s", store, err, want)
		}
		if err := c.Validate(); err == nil || err.Error() != want {
			t.Errorf("Validate with %q: %v\nwant %s", store, err, want)
		}
	}
}

func TestClusterDefaultsAndMajority(t *testing.T) {
	c := clusterConfig(t, &ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:7000", Members: threeMembers})
	if c.Cluster.Name != DefaultClusterName {
		t.Errorf("name %q, want %q", c.Cluster.Name, DefaultClusterName)
	}
	for n, want := range map[int]int{0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 5: 3} {
		cl := ClusterConfig{Members: make([]string, n)}
		if got := cl.Majority(); got != want {
			t.Errorf("Majority of %d members = %d, want %d", n, got, want)
		}
	}
	if got := HealthPort(7000); got != 7001 {
		t.Errorf("HealthPort(7000) = %d", got)
	}
	single := clusterConfig(t, nil)
	if single.Cluster != nil {
		t.Errorf("a config without cluster got one: %+v", single.Cluster)
	}
	raw, _ := json.Marshal(single)
	if strings.Contains(string(raw), "cluster") {
		t.Errorf("a single node marshals %s", raw)
	}
}

// TestClusterEnv: the variables replace the file's advertise and members;
// without a section they make one, which is refused for its missing
// provider rather than ignored.
func TestClusterEnv(t *testing.T) {
	env := map[string]string{
		"BOTSERVER_CLUSTER_ADVERTISE": "10.0.0.6:7000",
		"BOTSERVER_CLUSTER_MEMBERS":   " 10.0.0.5:7000, 10.0.0.6:7000,,10.0.0.7:7000 ",
	}
	c := Config{Store: clusterPG, Cluster: &ClusterConfig{Provider: "automanaged", Advertise: "10.0.0.5:7000", Members: []string{"10.0.0.5:7000"}}}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.Cluster.Advertise != "10.0.0.6:7000" || strings.Join(c.Cluster.Members, " ") != strings.Join(threeMembers, " ") {
		t.Errorf("after the environment: %+v", *c.Cluster)
	}

	c = Config{Store: clusterPG, Cluster: &ClusterConfig{Provider: "k8s", Advertise: "10.0.0.5:7000", Members: threeMembers}}
	c.ApplyEnv(func(k string) string { return map[string]string{"BOTSERVER_CLUSTER_ADVERTISE": "10.9.9.9:7000"}[k] })
	if c.Cluster.Advertise != "10.9.9.9:7000" || len(c.Cluster.Members) != 3 {
		t.Errorf("an unset variable changed the file's value: %+v", *c.Cluster)
	}

	c = clusterConfig(t, nil)
	c.ApplyEnv(func(k string) string { return map[string]string{"BOTSERVER_CLUSTER_ADVERTISE": "10.0.0.5:7000"}[k] })
	if err := c.Validate(); err == nil || err.Error() != `cluster.provider: "" must be automanaged, k8s or etcd` {
		t.Errorf("advertise without a section: %v", err)
	}
}

// TestClusterFile: the section is read from a file (unknown fields
// refused like everywhere), and provider test is refused there.
func TestClusterFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "botserver.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	path := write(`{"store": "` + clusterPG + `", "cluster": {"provider": "automanaged", "name": "prod", "advertise": "10.0.0.5:7000",
		"members": ["10.0.0.5:7000", "10.0.0.6:7000", "10.0.0.7:7000"]}}`)
	c, err := LoadConfig(path)
	if err != nil || c.Cluster == nil || c.Cluster.Name != "prod" || len(c.Cluster.Members) != 3 {
		t.Fatalf("%+v %v", c.Cluster, err)
	}
	path = write(`{"cluster": {"provider": "automanaged", "advertize": "10.0.0.5:7000"}}`)
	if _, err := LoadConfig(path); err == nil || err.Error() != path+`: unknown field "advertize"` {
		t.Errorf("typo: %v", err)
	}
	path = write(`{"cluster": {"provider": "test", "advertise": "127.0.0.1:7000"}}`)
	want := path + `: cluster.provider: "test" runs members in one process; use automanaged, k8s or etcd`
	if _, err := LoadConfig(path); err == nil || err.Error() != want {
		t.Errorf("test provider in a file: %v\nwant %s", err, want)
	}
}

// FuzzClusterValidate: any section is either refused or meets the
// promises operators rely on: a known provider, an advertise address that
// is host:port and no wildcard, and with automanaged a member list that
// holds it.
func FuzzClusterValidate(f *testing.F) {
	f.Add("automanaged", "prod", "10.0.0.5:7000", "10.0.0.5:7000,10.0.0.6:7000", "", "")
	f.Add("k8s", "", "[::1]:7000", "", "", "bots")
	f.Add("etcd", "x", "h:1", "", "e:2379,https://e", "")
	f.Add("test", "", "127.0.0.1:0", "", "", "")
	f.Fuzz(func(t *testing.T, provider, name, advertise, members, etcd, ns string) {
		c := Config{Listen: "0.0.0.0:8080", Store: clusterPG, Cluster: &ClusterConfig{Provider: provider, Name: name,
			Advertise: advertise, Members: splitList(members), Etcd: splitList(etcd), K8sNamespace: ns}}
		c.ApplyEnv(func(string) string { return "" })
		c.validateCluster(func(string, any, string) { t.SkipNow() }) // refused: fine
		host, _, err := net.SplitHostPort(c.Cluster.Advertise)
		if err != nil || host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
			t.Fatalf("accepted advertise %q", c.Cluster.Advertise)
		}
		if provider == ProviderAutomanaged && !slices.Contains(c.Cluster.Members, c.Cluster.Advertise) {
			t.Fatalf("accepted automanaged without itself: %+v", *c.Cluster)
		}
		if !dnsLabel.MatchString(c.Cluster.Name) {
			t.Fatalf("accepted name %q", c.Cluster.Name)
		}
	})
}

package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The cluster section (docs/operations.md, "Cluster"): absent, the server
// is a single node. Present, several servers form one cluster on
// protoactor-go's cluster, sharing one PostgreSQL store.

// Cluster providers: how members find each other.
const (
	ProviderAutomanaged = "automanaged" // a fixed member list, polled over HTTP
	ProviderK8s         = "k8s"         // pods of the same Kubernetes namespace
	ProviderEtcd        = "etcd"        // leases in etcd
	ProviderTest        = "test"        // members in one process (tests only; refused in a file)
)

// DefaultClusterName is the name of a cluster whose config gives none.
const DefaultClusterName = "botserver"

// ClusterNamePattern is what a cluster name and a k8s_namespace must match:
// a DNS label (a Kubernetes label value and namespace name, an etcd key).
const ClusterNamePattern = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"

var dnsLabel = regexp.MustCompile("^" + ClusterNamePattern + "$")

// ClusterConfig is the config's "cluster" section.
type ClusterConfig struct {
	// Provider is automanaged, k8s or etcd (test only in code).
	Provider string `json:"provider"`
	// Name separates clusters that share a provider (default "botserver").
	Name string `json:"name,omitempty"`
	// Advertise is the host:port the other members reach this member's
	// cluster port at: its own address, never a wildcard.
	Advertise string `json:"advertise"`
	// Members are every member's advertise address: required with
	// automanaged (and it includes Advertise); with another provider,
	// optional, the expected size of the cluster for the majority check.
	Members []string `json:"members,omitempty"`
	// Etcd are the etcd endpoints (host:port or http(s)://host:port);
	// provider etcd only, and required there.
	Etcd []string `json:"etcd,omitempty"`
	// K8sNamespace is the namespace whose pods are members (provider k8s
	// only; default: the pod's own).
	K8sNamespace string `json:"k8s_namespace,omitempty"`
}

// HealthPort is the port automanaged's health endpoint listens on for a
// member whose cluster port is port: the next one.
func HealthPort(port int) int { return port + 1 }

// Majority is how many members a member must see to keep serving: more
// than half of Members; 0 when Members is not given.
func (c *ClusterConfig) Majority() int {
	if len(c.Members) == 0 {
		return 0
	}
	return len(c.Members)/2 + 1
}

// clusterEnv applies BOTSERVER_CLUSTER_ADVERTISE and
// BOTSERVER_CLUSTER_MEMBERS (comma-separated) over the file's section; set
// without one, they make a section without a provider, which Validate
// refuses (a variable is never silently ignored).
func (c *Config) clusterEnv(getenv func(string) string) {
	advertise, members := getenv("BOTSERVER_CLUSTER_ADVERTISE"), getenv("BOTSERVER_CLUSTER_MEMBERS")
	if advertise == "" && members == "" {
		return
	}
	if c.Cluster == nil {
		c.Cluster = &ClusterConfig{}
	}
	if advertise != "" {
		c.Cluster.Advertise = advertise
	}
	if members != "" {
		c.Cluster.Members = splitList(members)
	}
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// clusterDefaults fills the cluster section's defaults.
func (c *Config) clusterDefaults() {
	if c.Cluster != nil && c.Cluster.Name == "" {
		c.Cluster.Name = DefaultClusterName
	}
}

// checkFileCluster refuses what only code may configure: provider test.
func checkFileCluster(c *ClusterConfig) error {
	if c != nil && c.Provider == ProviderTest {
		return fmt.Errorf("cluster.provider: %q runs members in one process; use automanaged, k8s or etcd", c.Provider)
	}
	return nil
}

// validateCluster checks the cluster section (the store's side is in
// validateStore).
func (c *Config) validateCluster(bad func(field string, value any, why string)) {
	cl := c.Cluster
	if cl == nil {
		return
	}
	c.clusterDefaults()
	switch cl.Provider {
	case ProviderAutomanaged, ProviderK8s, ProviderEtcd, ProviderTest:
	default:
		bad("cluster.provider", cl.Provider, "must be automanaged, k8s or etcd")
	}
	if !dnsLabel.MatchString(cl.Name) {
		bad("cluster.name", cl.Name, "must match "+ClusterNamePattern)
	}
	cl.validateAdvertise(bad)
	c.checkPorts(bad)
	cl.validateMembers(bad)
	cl.validateProviderFields(bad)
}

// maxPort is the highest cluster port: automanaged needs the next one too.
func (c *ClusterConfig) maxPort() int {
	if c.Provider == ProviderAutomanaged {
		return 65534
	}
	return 65535
}

// checkAddress is why addr cannot be a member's address ("" if it can).
func (c *ClusterConfig) checkAddress(addr string) string {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return "must be host:port"
	}
	port, err := strconv.Atoi(portText)
	minPort := 1
	if c.Provider == ProviderTest {
		minPort = 0 // a test's members bind a free port
	}
	if err != nil || port < minPort || port > c.maxPort() {
		why := fmt.Sprintf("must have a port between %d and %d", minPort, c.maxPort())
		if c.Provider == ProviderAutomanaged {
			why += " (automanaged's health port is the next one)"
		}
		return why
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "must name the member's host, not a wildcard address (the other members connect to it)"
	}
	return ""
}

func (c *ClusterConfig) validateAdvertise(bad func(field string, value any, why string)) {
	if c.Advertise == "" {
		bad("cluster.advertise", c.Advertise, "is required: the host:port the other members reach this member's cluster port at")
		return
	}
	if why := c.checkAddress(c.Advertise); why != "" {
		bad("cluster.advertise", c.Advertise, why)
	}
}

// checkPorts refuses a cluster port (or automanaged's health port) that is
// listen's port.
func (c *Config) checkPorts(bad func(field string, value any, why string)) {
	cl := c.Cluster
	_, listenText, err1 := net.SplitHostPort(c.Listen)
	_, clusterText, err2 := net.SplitHostPort(cl.Advertise)
	listen, err3 := strconv.Atoi(listenText)
	port, err4 := strconv.Atoi(clusterText)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || listen == 0 || port == 0 {
		return // reported elsewhere, or a free port
	}
	switch {
	case listen == port:
		bad("cluster.advertise", cl.Advertise, fmt.Sprintf("has the port of listen %q (the cluster needs a port of its own)", c.Listen))
	case cl.Provider == ProviderAutomanaged && listen == HealthPort(port):
		bad("cluster.advertise", cl.Advertise, fmt.Sprintf("needs port %d for automanaged's health endpoint, which is the port of listen %q", HealthPort(port), c.Listen))
	}
}

func (c *ClusterConfig) validateMembers(bad func(field string, value any, why string)) {
	if len(c.Members) == 0 {
		if c.Provider == ProviderAutomanaged {
			bad("cluster.members", c.Members, "must list every member's advertise address (provider automanaged)")
		}
		return
	}
	seen := map[string]int{}
	for i, m := range c.Members {
		field := fmt.Sprintf("cluster.members[%d]", i)
		if why := c.checkAddress(m); why != "" {
			bad(field, m, why)
		} else if j, dup := seen[m]; dup {
			bad(field, m, fmt.Sprintf("is also cluster.members[%d]", j))
		} else {
			seen[m] = i
		}
	}
	if c.Provider == ProviderAutomanaged && c.Advertise != "" && !slices.Contains(c.Members, c.Advertise) {
		bad("cluster.advertise", c.Advertise, "is not in cluster.members (every member lists itself too)")
	}
}

// validateProviderFields checks etcd and k8s_namespace: each belongs to
// its provider.
func (c *ClusterConfig) validateProviderFields(bad func(field string, value any, why string)) {
	switch {
	case c.Provider == ProviderEtcd && len(c.Etcd) == 0:
		bad("cluster.etcd", c.Etcd, "must list the etcd endpoints (provider etcd)")
	case c.Provider != ProviderEtcd && len(c.Etcd) > 0:
		bad("cluster.etcd", c.Etcd, "is only used with provider etcd")
	}
	for i, e := range c.Etcd {
		if !validEndpoint(e) {
			bad(fmt.Sprintf("cluster.etcd[%d]", i), e, "must be host:port or an http:// or https:// URL")
		}
	}
	switch {
	case c.K8sNamespace == "":
	case c.Provider != ProviderK8s:
		bad("cluster.k8s_namespace", c.K8sNamespace, "is only used with provider k8s")
	case !dnsLabel.MatchString(c.K8sNamespace):
		bad("cluster.k8s_namespace", c.K8sNamespace, "must match "+ClusterNamePattern)
	}
}

// validEndpoint reports whether e is an etcd endpoint: host:port, or an
// http(s) URL with a host.
func validEndpoint(e string) bool {
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	}
	host, port, err := net.SplitHostPort(e)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

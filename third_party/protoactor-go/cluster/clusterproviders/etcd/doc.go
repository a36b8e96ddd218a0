// Package etcd is a ClusterProvider over etcd: each member keeps a key
// under a lease and watches the prefix for the others.
//
//	p, err := etcd.New()
package etcd

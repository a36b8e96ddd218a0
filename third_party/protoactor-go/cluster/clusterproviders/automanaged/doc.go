// Package automanaged is a ClusterProvider over a fixed host list: each
// member serves /_health on its own port and polls the others' every
// refresh interval; one failed poll drops a member.
//
//	p := automanaged.NewWithConfig(2*time.Second, 7001, "10.0.0.5:7001", "10.0.0.6:7001")
package automanaged

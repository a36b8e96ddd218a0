// Package k8s is a ClusterProvider over the Kubernetes API: a member labels
// its own pod and watches the pods of its namespace; running, ready pods are
// members.
//
//	p, err := k8s.New()
package k8s

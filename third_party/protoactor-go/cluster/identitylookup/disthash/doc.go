// Package disthash is the identity lookup that places grains by the
// rendezvous hash on the member that owns them and activates them there
// through a placement actor. botserver never activates grains; the cluster
// requires a lookup.
//
//	lookup := disthash.New()
package disthash

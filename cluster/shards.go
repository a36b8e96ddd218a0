package cluster

import (
	"hash/fnv"
	"strconv"
	"strings"

	"botserver"

	"github.com/asynkron/protoactor-go/cluster"
)

// Shards is how many shards the instances are placed in. Every member of
// a cluster must use the same number; it is fixed.
const Shards = 1024

// shardKey is what places an address: all of a user's conversations
// with a bot (in groups or not) share the user's shard, so the user
// record a turn reads stays on one member; a group and a master are
// placed by their own address.
func shardKey(bot, addr string) string {
	switch {
	case addr == botserver.MasterAddr:
		return bot + "/master"
	case strings.HasPrefix(addr, "~"):
		return bot + "/" + addr
	}
	user, _, _ := strings.Cut(addr, "@")
	return bot + "/" + user
}

// shardOf returns the shard of an address of bot.
func shardOf(bot, addr string) int {
	h := fnv.New32a()
	h.Write([]byte(shardKey(bot, addr)))
	return int(h.Sum32() % Shards)
}

// table is one view of the cluster: the owner of every shard. It is
// never changed once made (a new view is a new table).
type table struct {
	owner   [Shards]string // cluster addresses; "" when no member may host it
	self    string
	members []Member
	owned   int // shards this member owns
}

// newTable places the shards over members with protoactor's rendezvous
// hash; a member that is cut off owns nothing and knows no owner.
func newTable(self string, members []Member, cutOff bool) *table {
	t := &table{self: self, members: members}
	if cutOff || len(members) == 0 {
		return t
	}
	cms := make(cluster.Members, 0, len(members))
	for _, m := range members {
		host, port := splitAddr(m.Address)
		cms = append(cms, &cluster.Member{Id: m.ID, Host: host, Port: int32(port), Kinds: []string{Kind}})
	}
	r := cluster.NewRendezvous()
	r.UpdateMembers(cms)
	for s := range t.owner {
		t.owner[s] = r.GetByClusterIdentity(&cluster.ClusterIdentity{Kind: Kind, Identity: "shard-" + strconv.Itoa(s)})
		if t.owner[s] == self {
			t.owned++
		}
	}
	return t
}

// ownerOf returns the member that hosts addr of bot ("" if none).
func (t *table) ownerOf(bot, addr string) string { return t.owner[shardOf(bot, addr)] }

// has reports whether member is in the view.
func (t *table) has(member string) bool {
	for _, m := range t.members {
		if m.Address == member {
			return true
		}
	}
	return false
}

func splitAddr(addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr, 0
	}
	port, _ := strconv.Atoi(addr[i+1:])
	return addr[:i], port
}

// OwnerAmong returns the member of members (cluster addresses) that hosts
// addr of bot while exactly those members are live: the placement every
// member computes, for tools and tests outside the cluster's processes.
func OwnerAmong(members []string, bot, addr string) string {
	ms := make([]Member, len(members))
	for i, a := range members {
		ms[i] = Member{ID: a, Address: a}
	}
	return newTable("", ms, false).ownerOf(bot, addr)
}

// Package coordinators holds what makes a script instance a bot's master
// or a group, beside the actors package that runs them (actors.Coordinator):
//
//   - creation: a master's main runs once in its life; a group is created
//     by spawn_group with its initial variables, once (Registry knows which
//     groups exist, in this process or in the store);
//   - membership: a conversation opened through a group link (ChatLink
//     makes one; the web chat's ?g=) sends its group JoinEvent, and the
//     group adds it to its members, a set kept in join order;
//   - fan-out: an emit without to: in a group reaches every member; in the
//     master, nobody.
//
// The dsl checks the arguments of spawn_group, group_name and chat_link;
// this package decides what they do.
//
//	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds(),
//		ChatLink: coordinators.ChatLink("https://chat.example.com")})
package coordinators

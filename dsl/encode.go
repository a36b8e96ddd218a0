package dsl

// Marshal encodes st to the bytes of a pb.InstanceState.
func Marshal(st *State) ([]byte, error) { return AppendState(make([]byte, 0, 256), st) }

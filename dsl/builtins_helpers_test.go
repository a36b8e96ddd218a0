package dsl

// pureBuiltins returns the pure built-in functions of a fresh builtinSet.
func pureBuiltins() map[string]pureBuiltinFunc {
	return newBuiltins().funcs()
}

package dsl

// pureBuiltins returns the built-in functions of a fresh builtinSet, each
// called without a running turn (a fresh default memory budget per call):
// for tests.
func pureBuiltins() map[string]pureBuiltinFunc {
	out := map[string]pureBuiltinFunc{}
	for name, spec := range newBuiltins().specs() {
		fn := spec.bind(name)
		out[name] = func(args ...any) (any, error) {
			return fn(append([]any{&turnRT{}}, args...)...)
		}
	}
	return out
}

package persistence

import "fmt"

// CheckBotID returns ErrInvalidBotID (wrapped, naming id) unless id
// matches [a-z0-9][a-z0-9_-]{0,62}. Backends use it for Keys.
func CheckBotID(id string) error {
	if !validBotID(id) {
		return fmt.Errorf("%w: %q (want [a-z0-9][a-z0-9_-]{0,62})", ErrInvalidBotID, id)
	}
	return nil
}

// CheckKey returns ErrInvalidKey for an empty key or one longer than
// MaxKeySize bytes.
func CheckKey(key string) error { return checkKey(key) }

// CheckCall returns the error every backend reports for a call it refuses
// before queueing it: ErrInvalidKey for a bad op or fence key, ErrTooLarge
// for a value longer than MaxValueSize.
func CheckCall(c Call) error {
	if c.Fence.Key != "" {
		if err := checkKey(c.Fence.Key); err != nil {
			return err
		}
	}
	for i := range c.Ops {
		op := &c.Ops[i]
		if err := checkKey(op.Key); err != nil {
			return err
		}
		if !op.Delete && len(op.Value) > MaxValueSize {
			return fmt.Errorf("%w: value of %q has %d bytes, limit %d",
				ErrTooLarge, op.Key, len(op.Value), MaxValueSize)
		}
	}
	return nil
}

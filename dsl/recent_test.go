package dsl

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestRecentInputsWire: the ids of recent inputs go through the state
// codec as the generated code writes and reads them (packed), the unpacked
// form a protobuf parser must also accept is read, and a packed field
// whose length is not a multiple of 8 is refused.
func TestRecentInputsWire(t *testing.T) {
	prog, err := Compile("main.bot", "dialog main do\n  say \"hi\"\nend\n", RoleSession)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState()
	st.Turn, st.Recent = 3, []uint64{1, 1 << 40, ^uint64(0)}
	raw, err := Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	checkWireCompat(t, st, raw, prog)
	got, err := UnmarshalState(raw, prog)
	if err != nil || !slices.Equal(got.Recent, st.Recent) {
		t.Fatalf("round trip: %v, %v", got.Recent, err)
	}

	var unpacked []byte
	for _, id := range []uint64{7, 9} {
		unpacked = protowire.AppendTag(unpacked, 13, protowire.Fixed64Type)
		unpacked = protowire.AppendFixed64(unpacked, id)
	}
	if got, err = UnmarshalState(unpacked, prog); err != nil || !slices.Equal(got.Recent, []uint64{7, 9}) {
		t.Fatalf("unpacked: %v, %v", got, err)
	}

	bad := protowire.AppendTag(nil, 13, protowire.BytesType)
	bad = protowire.AppendBytes(bad, make([]byte, 9))
	if _, err = UnmarshalState(bad, prog); err == nil || err.Error() != "corrupt state: field 13: packed fixed64 of 9 bytes" {
		t.Fatalf("odd length: %v", err)
	}
	wrong := protowire.AppendTag(nil, 13, protowire.VarintType)
	wrong = protowire.AppendVarint(wrong, 1)
	if _, err = UnmarshalState(wrong, prog); err == nil || err.Error() != "corrupt state: field 13: unexpected wire type" {
		t.Fatalf("varint: %v", err)
	}
}

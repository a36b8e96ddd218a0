package dsl

// The protobuf message form of values (proto.Value), converted with the
// generated code: conversation history records carry values in it, and the
// tests check the runtime's own codec (wire.go) against it.

import (
	"fmt"

	pb "botserver/proto"
)

// ToProto encodes a value for the wire and the store. Canonical values
// round-trip exactly through FromProto, except that invalid UTF-8 in strings,
// atoms and map keys becomes U+FFFD (protobuf strings must be valid UTF-8).
// Other Go values are normalized first, which may fail as Normalize does.
func ToProto(v any) (*pb.Value, error) {
	return toProtoAt(v, 0)
}

func toProtoAt(v any, depth int) (*pb.Value, error) {
	switch x := v.(type) {
	case nil:
		return &pb.Value{Kind: &pb.Value_Nil{Nil: true}}, nil
	case bool:
		return &pb.Value{Kind: &pb.Value_Bool{Bool: x}}, nil
	case int:
		return &pb.Value{Kind: &pb.Value_Int{Int: int64(x)}}, nil
	case float64:
		return &pb.Value{Kind: &pb.Value_Float{Float: x}}, nil
	case string:
		return &pb.Value{Kind: &pb.Value_Str{Str: validUTF8(x)}}, nil
	case Atom:
		return &pb.Value{Kind: &pb.Value_Atom{Atom: validUTF8(string(x))}}, nil
	case []any:
		return listToProto(x, depth)
	case map[string]any:
		if depth >= MaxValueDepth {
			return nil, errValueTooDeep
		}
		fields, err := mapToProtoAt(x, depth+1)
		if err != nil {
			return nil, err
		}
		return &pb.Value{Kind: &pb.Value_Map{Map: &pb.Map{Fields: fields}}}, nil
	}
	n, err := normalizeAt(v, depth)
	if err != nil {
		return nil, err
	}
	return toProtoAt(n, depth)
}

func listToProto(l []any, depth int) (*pb.Value, error) {
	if depth >= MaxValueDepth {
		return nil, errValueTooDeep
	}
	items := make([]*pb.Value, len(l))
	for i, e := range l {
		p, err := toProtoAt(e, depth+1)
		if err != nil {
			return nil, err
		}
		items[i] = p
	}
	return &pb.Value{Kind: &pb.Value_List{List: &pb.List{Items: items}}}, nil
}

func mapToProtoAt(m map[string]any, depth int) (map[string]*pb.Value, error) {
	out := make(map[string]*pb.Value, len(m))
	for k, e := range m {
		p, err := toProtoAt(e, depth)
		if err != nil && depth == 0 {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if err != nil {
			return nil, err
		}
		out[validUTF8(k)] = p
	}
	return out, nil
}

// FromProto decodes a value written by ToProto. A nil message, or one with
// no kind set, decodes to nil; empty lists and maps decode to empty,
// non-nil containers.
func FromProto(p *pb.Value) any {
	switch k := p.GetKind().(type) {
	case *pb.Value_Bool:
		return k.Bool
	case *pb.Value_Int:
		return int(k.Int)
	case *pb.Value_Float:
		return k.Float
	case *pb.Value_Str:
		return k.Str
	case *pb.Value_Atom:
		return Atom(k.Atom)
	case *pb.Value_List:
		items := k.List.GetItems()
		out := make([]any, len(items))
		for i, e := range items {
			out[i] = FromProto(e)
		}
		return out
	case *pb.Value_Map:
		return MapFromProto(k.Map.GetFields())
	}
	return nil
}

// MapFromProto decodes a map written by MapToProto. It always returns a
// non-nil map, empty for a nil argument.
func MapFromProto(m map[string]*pb.Value) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = FromProto(e)
	}
	return out
}

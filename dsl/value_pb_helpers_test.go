package dsl

import pb "botserver/proto"

// MapToProto encodes a map of variables, as ToProto does for each value.
// A nil map gives a nil map.
func MapToProto(m map[string]any) (map[string]*pb.Value, error) {
	if m == nil {
		return nil, nil
	}
	return mapToProtoAt(m, 0)
}

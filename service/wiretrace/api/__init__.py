"""The gRPC API layer: protobuf <-> domain conversion, error mapping, the servicer."""

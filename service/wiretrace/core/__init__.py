"""Domain core: normalisation, features, signatures, LSH banding, matching, lineage.

Imports no transport (grpc, protobuf): usable as a library and from batch jobs.
"""

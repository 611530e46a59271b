"""The verifiable log: RFC 9162 Merkle tree, checkpoints, proofs, verifier."""

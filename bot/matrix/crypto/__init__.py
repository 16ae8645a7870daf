"""End-to-end encryption as Element expects it, beyond what matrix-nio does: cross-signing, secret storage
and the recovery key, withheld keys, the key-sharing policy and interactive verification."""

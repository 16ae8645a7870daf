"""Signed JSON as the Matrix spec defines it: canonical JSON, unpadded base64, Ed25519.

A signature covers the object without its ``signatures`` and ``unsigned`` members, serialised as
canonical JSON (keys sorted, no insignificant whitespace, UTF-8). Signatures live in
``signatures[user_id]["ed25519:<key id>"]``. Ed25519 (RFC 8032) comes from PyCryptodome, which matrix-nio
loads anyway (``tests/unit/test_crypto_vectors.py`` checks it byte for byte against ``cryptography``).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from dataclasses import dataclass
from typing import Any

from Crypto.PublicKey.ECC import EccKey
from Crypto.Signature import eddsa


def canonical_json(value: Any) -> bytes:
    """The spec's canonical JSON: sorted keys, compact separators, UTF-8 without escapes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def b64encode(data: bytes) -> str:
    """Unpadded standard base64, as Matrix keys and signatures are written."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def signable(obj: dict[str, Any]) -> bytes:
    """What a signature of ``obj`` covers."""
    return canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair, kept as its 32-byte seed (which is what secret storage holds)."""

    seed: bytes

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(secrets.token_bytes(32))

    @property
    def _private(self) -> EccKey:
        return eddsa.import_private_key(self.seed)

    @property
    def public(self) -> str:
        """The public key, unpadded base64: also the key's id (``ed25519:<public>``)."""
        return b64encode(self._private.public_key().export_key(format="raw"))

    def sign(self, message: bytes) -> str:
        return b64encode(eddsa.new(self._private, "rfc8032").sign(message))


def sign_json(obj: dict[str, Any], user_id: str, key_id: str, key: SigningKey) -> dict[str, Any]:
    """A copy of ``obj`` with one more signature (``key_id`` without the ``ed25519:`` prefix)."""
    signed = copy.deepcopy(obj)
    signature = key.sign(signable(obj))
    signed.setdefault("signatures", {}).setdefault(user_id, {})[f"ed25519:{key_id}"] = signature
    return signed


def verify_json(obj: dict[str, Any], user_id: str, key_id: str, public_key: str) -> bool:
    """True when ``obj`` carries a valid signature by ``user_id``'s key ``ed25519:<key_id>``."""
    signature = ((obj.get("signatures") or {}).get(user_id) or {}).get(f"ed25519:{key_id}")
    if not isinstance(signature, str):
        return False
    try:
        verifier = eddsa.new(eddsa.import_public_key(b64decode(public_key)), "rfc8032")
        verifier.verify(signable(obj), b64decode(signature))
    except (ValueError, TypeError):  # a wrong signature, or a key or signature that is not one
        return False
    return True


def fingerprint(public_key: str) -> str:
    """A public key in groups of four characters, as Element shows keys."""
    return " ".join(public_key[i:i + 4] for i in range(0, len(public_key), 4))

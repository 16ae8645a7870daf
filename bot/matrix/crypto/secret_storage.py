"""Secret storage (``m.secret_storage.v1.aes-hmac-sha2``) and the recovery key, as the spec and Element do.

A secret-storage key is 32 random bytes. Its description lives in the account data
``m.secret_storage.key.<id>`` with an ``iv`` and a ``mac`` that let a client check a key it is given
(the encryption of 32 zero bytes under the name ""); ``m.secret_storage.default_key`` names the key
in use. A secret is account data named after it (``m.cross_signing.master`` …) holding
``{"encrypted": {<key id>: {"iv", "ciphertext", "mac"}}}``: HKDF-SHA-256 of the key (zero salt, the
secret's name as info) gives an AES-256-CTR key and an HMAC-SHA-256 key; the MAC covers the ciphertext.
AES and HKDF come from PyCryptodome, which matrix-nio loads anyway (``tests/unit/test_crypto_vectors.py``
checks them byte for byte against ``cryptography``).

The recovery key that people write down encodes the key: the bytes 0x8B 0x01, the key, one parity byte
(XOR of all before it), in base58 (Bitcoin's alphabet), spaced every four characters.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import base58
from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
DEFAULT_KEY_TYPE = "m.secret_storage.default_key"
PREFIX = bytes([0x8B, 0x01])
KEY_SIZE = 32


class RecoveryKeyError(ValueError):
    """A recovery key that is not one (typo, wrong length, wrong parity)."""


class SecretStorageError(Exception):
    """A secret that cannot be decrypted with the given key (wrong key, or tampered with)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4))


def encode_recovery_key(key: bytes) -> str:
    if len(key) != KEY_SIZE:
        raise ValueError("a secret-storage key has 32 bytes")
    data = PREFIX + key
    parity = 0
    for byte in data:
        parity ^= byte
    encoded = base58.b58encode(data + bytes([parity])).decode("ascii")
    return " ".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def decode_recovery_key(text: str) -> bytes:
    compact = "".join(text.split())
    try:
        data = base58.b58decode(compact)
    except ValueError:
        raise RecoveryKeyError("not a recovery key: it has characters that base58 does not use") from None
    parity = 0
    for byte in data:
        parity ^= byte
    if len(data) != len(PREFIX) + KEY_SIZE + 1:
        raise RecoveryKeyError("not a recovery key: wrong length")
    if parity != 0:
        raise RecoveryKeyError("not a recovery key: a character is wrong (parity)")
    if data[:2] != PREFIX:
        raise RecoveryKeyError("not a recovery key: wrong prefix")
    return data[2:2 + KEY_SIZE]


def hkdf_sha256(key: bytes, length: int, salt: bytes | None, info: bytes) -> bytes:
    """HKDF-SHA-256 (RFC 5869); no salt is a salt of 32 zero bytes."""
    derived = HKDF(key, length, salt if salt is not None else bytes(32), SHA256, context=info)
    assert isinstance(derived, bytes)
    return derived


def aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-CTR with ``iv`` as the whole first 128-bit counter block (encryption and decryption alike)."""
    return AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=iv).encrypt(data)


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    derived = hkdf_sha256(key, 64, bytes(32), name.encode("utf-8"))
    return derived[:32], derived[32:]


def _new_iv() -> bytes:
    iv = bytearray(secrets.token_bytes(16))
    iv[8] &= 0x7F  # bit 63 cleared, so a 64-bit counter never wraps (Android's decrypter needs that)
    return bytes(iv)


def encrypt(key: bytes, name: str, plaintext: str, iv: bytes | None = None) -> dict[str, str]:
    iv = iv or _new_iv()
    aes_key, hmac_key = _derive(key, name)
    ciphertext = aes_ctr(aes_key, iv, plaintext.encode("utf-8"))
    mac = hmac.new(hmac_key, ciphertext, sha256).digest()
    return {"iv": _b64(iv), "ciphertext": _b64(ciphertext), "mac": _b64(mac)}


def decrypt(key: bytes, name: str, payload: dict[str, Any]) -> str:
    try:
        iv, ciphertext, mac = (_unb64(payload[k]) for k in ("iv", "ciphertext", "mac"))
    except (KeyError, TypeError, ValueError):
        raise SecretStorageError(f"{name}: the stored secret is malformed") from None
    aes_key, hmac_key = _derive(key, name)
    if not hmac.compare_digest(hmac.new(hmac_key, ciphertext, sha256).digest(), mac):
        raise SecretStorageError(f"{name}: the key does not open it")
    return aes_ctr(aes_key, iv, ciphertext).decode("utf-8")


def key_check(key: bytes, iv: bytes | None = None) -> dict[str, str]:
    """The ``iv`` and ``mac`` of a key description: 32 zero bytes encrypted under the name ""."""
    encrypted = encrypt(key, "", "\0" * 32, iv)
    return {"iv": encrypted["iv"], "mac": encrypted["mac"]}


def key_matches(key: bytes, description: dict[str, Any]) -> bool:
    """Whether ``key`` is the key ``description`` describes (always True when it has no check, as in Element)."""
    if description.get("algorithm") != ALGORITHM:
        return False
    if not description.get("iv") or not description.get("mac"):
        return True
    try:
        expected = key_check(key, _unb64(description["iv"]))["mac"]
    except ValueError:
        return False
    return hmac.compare_digest(expected.rstrip("="), str(description["mac"]).rstrip("="))


@dataclass(frozen=True)
class StorageKey:
    key_id: str
    key: bytes

    @classmethod
    def generate(cls) -> "StorageKey":
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return cls("".join(secrets.choice(alphabet) for _ in range(32)), secrets.token_bytes(KEY_SIZE))

    @property
    def recovery_key(self) -> str:
        return encode_recovery_key(self.key)

    def description(self, name: str) -> dict[str, Any]:
        return {"algorithm": ALGORITHM, "name": name, **key_check(self.key)}

    def encrypt_secret(self, name: str, plaintext: str) -> dict[str, Any]:
        return {"encrypted": {self.key_id: encrypt(self.key, name, plaintext)}}

    def decrypt_secret(self, name: str, content: dict[str, Any]) -> str:
        payload = ((content or {}).get("encrypted") or {}).get(self.key_id)
        if not isinstance(payload, dict):
            raise SecretStorageError(f"{name} is not stored under the secret-storage key {self.key_id}")
        return decrypt(self.key, name, payload)

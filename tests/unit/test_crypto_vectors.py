"""The bot's Ed25519, HKDF, AES-CTR and AES-GCM (PyCryptodome) give byte for byte what ``cryptography`` gives.

The bot computes with PyCryptodome (matrix-nio loads it anyway); the reference here is the other library,
``cryptography`` (OpenSSL), which the bot used before and which stays a test-only dependency, and the
published vectors of RFC 8032 (Ed25519) and RFC 5869 (HKDF-SHA-256). What the bot wrote with
``cryptography`` (secret storage on the homeserver, the cross-signing keys in its store) must open, and
what it writes now must open with ``cryptography``: the wire and file formats did not change.
"""

from __future__ import annotations

import base64
import hmac
import json
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.matrix.crypto.cross_signing import CrossSigningKeys
from bot.matrix.crypto.identity import LocalKeys, aes_gcm_decrypt, aes_gcm_encrypt
from bot.matrix.crypto.secret_storage import (StorageKey, aes_ctr, decrypt, encrypt, hkdf_sha256, key_check,
                                              key_matches)
from bot.matrix.crypto.signing import SigningKey, b64decode, b64encode, sign_json, signable, verify_json

cryptography = pytest.importorskip("cryptography")
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

# RFC 8032, 7.1: TEST 1 (empty message), TEST 2 (one byte), TEST 3 (two bytes): secret key, public key, message,
# signature.
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]

# RFC 5869, appendix A: test cases 1–3 (SHA-256): IKM, salt, info, L, OKM.
RFC5869 = [
    ("0b" * 22, "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
    (bytes(range(0x00, 0x50)).hex(), bytes(range(0x60, 0xb0)).hex(), bytes(range(0xb0, 0x100)).hex(), 82,
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
     "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"),
    ("0b" * 22, "", "", 42,
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
]


def reference_public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def reference_hkdf(key: bytes, length: int, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def reference_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def reference_secret(key: bytes, name: str, plaintext: str, iv: bytes) -> dict[str, str]:
    """``m.secret_storage.v1.aes-hmac-sha2`` as the bot wrote it with ``cryptography``."""
    derived = reference_hkdf(key, 64, bytes(32), name.encode("utf-8"))
    ciphertext = reference_ctr(derived[:32], iv, plaintext.encode("utf-8"))
    mac = hmac.new(derived[32:], ciphertext, sha256).digest()
    return {k: base64.b64encode(v).decode("ascii") for k, v in (("iv", iv), ("ciphertext", ciphertext), ("mac", mac))}


# ----- Ed25519 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("secret, public, message, signature", RFC8032)
def test_ed25519_gives_rfc_8032_and_cryptography_byte_for_byte(secret, public, message, signature):
    seed, msg = bytes.fromhex(secret), bytes.fromhex(message)
    key = SigningKey(seed)
    assert b64decode(key.public) == bytes.fromhex(public) == reference_public(seed)
    ours = b64decode(key.sign(msg))
    assert ours == bytes.fromhex(signature) == Ed25519PrivateKey.from_private_bytes(seed).sign(msg)
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(ours, msg)  # raises if it were not valid


@settings(max_examples=50, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_ed25519_signatures_equal_cryptographys_for_any_key_and_message(seed, message):
    assert b64decode(SigningKey(seed).public) == reference_public(seed)
    assert b64decode(SigningKey(seed).sign(message)) == Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def test_signed_json_verifies_across_the_two_libraries():
    seed = bytes.fromhex(RFC8032[0][0])
    obj = {"user_id": "@hub:localhost", "usage": ["master"], "keys": {"ed25519:x": "x"}, "unsigned": {"a": 1}}
    ours = sign_json(obj, "@hub:localhost", "KEY", SigningKey(seed))
    public = Ed25519PublicKey.from_public_bytes(reference_public(seed))
    public.verify(b64decode(ours["signatures"]["@hub:localhost"]["ed25519:KEY"]), signable(obj))

    theirs = json.loads(json.dumps(obj))
    theirs["signatures"] = {"@hub:localhost": {
        "ed25519:KEY": b64encode(Ed25519PrivateKey.from_private_bytes(seed).sign(signable(obj)))}}
    assert verify_json(theirs, "@hub:localhost", "KEY", b64encode(reference_public(seed)))
    assert theirs["signatures"] == ours["signatures"]

    tampered = {**theirs, "usage": ["self_signing"]}
    assert not verify_json(tampered, "@hub:localhost", "KEY", b64encode(reference_public(seed)))
    with pytest.raises(InvalidSignature):  # and the reference agrees that it is not valid
        public.verify(b64decode(tampered["signatures"]["@hub:localhost"]["ed25519:KEY"]), signable(tampered))
    other = b64encode(reference_public(bytes(32)))
    assert not verify_json(theirs, "@hub:localhost", "KEY", other)
    for broken_key in ("", "AAAA", "not base64!"):
        assert not verify_json(theirs, "@hub:localhost", "KEY", broken_key)
    short = {**theirs, "signatures": {"@hub:localhost": {"ed25519:KEY": "AAAA"}}}
    assert not verify_json(short, "@hub:localhost", "KEY", b64encode(reference_public(seed)))


# ----- HKDF-SHA-256 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("ikm, salt, info, length, okm", RFC5869)
def test_hkdf_gives_rfc_5869_and_cryptography_byte_for_byte(ikm, salt, info, length, okm):
    args = bytes.fromhex(ikm), length, bytes.fromhex(salt), bytes.fromhex(info)
    assert hkdf_sha256(*args) == bytes.fromhex(okm) == reference_hkdf(*args)


@settings(max_examples=50, deadline=None)
@given(key=st.binary(max_size=64), info=st.binary(max_size=64), length=st.integers(1, 255),
       salt=st.none() | st.binary(max_size=64))
def test_hkdf_equals_cryptographys_no_salt_included(key, info, length, salt):
    assert hkdf_sha256(key, length, salt, info) == reference_hkdf(key, length, salt, info)


# ----- AES-CTR and secret storage -------------------------------------------------------------------

# A counter block that carries from its low 64 bits into the high ones, and one that wraps at 2**128
# (the bot never makes those, bit 63 is cleared, but it reads what other clients wrote).
IVS = [bytes(16), bytes(range(16)), bytes(8) + b"\xff" * 8, b"\xff" * 16, bytes.fromhex("7f" + "ff" * 15)]


@pytest.mark.parametrize("iv", IVS, ids=lambda iv: iv.hex())
def test_aes_ctr_equals_cryptographys_across_counter_carries(iv):
    key = bytes(range(32))
    data = bytes(range(256)) * 3  # 48 blocks
    assert aes_ctr(key, iv, data) == reference_ctr(key, iv, data)
    assert aes_ctr(key, iv, data[:5]) == reference_ctr(key, iv, data[:5])  # a partial block


@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=32, max_size=32), iv=st.binary(min_size=16, max_size=16),
       name=st.text(max_size=40), plaintext=st.text(max_size=300))
def test_secret_storage_encrypts_as_before_and_opens_what_was_written_before(key, iv, name, plaintext):
    reference = reference_secret(key, name, plaintext, iv)
    assert encrypt(key, name, plaintext, iv) == reference
    assert decrypt(key, name, reference) == plaintext


def test_key_checks_are_the_ones_cryptography_made():
    key, iv = bytes(range(32)), bytes(range(16))
    reference = reference_secret(key, "", "\0" * 32, iv)
    assert key_check(key, iv) == {"iv": reference["iv"], "mac": reference["mac"]}
    storage = StorageKey("ABC", key)
    assert key_matches(key, {"algorithm": "m.secret_storage.v1.aes-hmac-sha2", **reference})
    assert not key_matches(bytes(32), {"algorithm": "m.secret_storage.v1.aes-hmac-sha2", **reference})
    content = {"encrypted": {"ABC": reference_secret(key, "m.cross_signing.master", "c2VlZA", iv)}}
    assert storage.decrypt_secret("m.cross_signing.master", content) == "c2VlZA"


# ----- AES-GCM: the cross-signing keys kept in the store --------------------------------------------

@settings(max_examples=50, deadline=None)
@given(key=st.binary(min_size=32, max_size=32), nonce=st.binary(min_size=12, max_size=12),
       plaintext=st.binary(max_size=300), associated=st.binary(max_size=40))
def test_aes_gcm_equals_cryptographys(key, nonce, plaintext, associated):
    ours = aes_gcm_encrypt(key, nonce, plaintext, associated)
    assert ours == AESGCM(key).encrypt(nonce, plaintext, associated)
    assert aes_gcm_decrypt(key, nonce, ours, associated) == plaintext
    with pytest.raises(ValueError):
        aes_gcm_decrypt(key, nonce, ours, associated + b"x")
    with pytest.raises(ValueError):
        aes_gcm_decrypt(key, nonce, bytes([ours[0] ^ 1]) + ours[1:], associated)


def test_local_keys_written_with_cryptography_load_and_the_new_ones_open_with_it(tmp_path: Path):
    user = "@hub:localhost"
    keys = CrossSigningKeys(*(SigningKey(bytes([i]) * 32) for i in (1, 2, 3)))
    seeds = {"master": keys.master.seed, "self_signing": keys.self_signing.seed, "user_signing": keys.user_signing.seed}
    aead = AESGCM(reference_hkdf(b"pickle", 32, None, b"leaders-hub cross-signing keys"))

    # A file as the bot wrote it with cryptography, read now.
    nonce = bytes(range(12))
    plain = json.dumps({u: b64encode(s) for u, s in seeds.items()}).encode()
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"user_id": user, "nonce": b64encode(nonce),
                               "ciphertext": b64encode(aead.encrypt(nonce, plain, user.encode()))}))
    loaded = LocalKeys(old, "pickle").load(user)
    assert loaded is not None and [k.seed for k in (loaded.master, loaded.self_signing, loaded.user_signing)] == [
        seeds["master"], seeds["self_signing"], seeds["user_signing"]]
    assert LocalKeys(old, "another pickle key").load(user) is None

    # A file written now, read with cryptography.
    new = tmp_path / "new.json"
    LocalKeys(new, "pickle").save(user, keys)
    data = json.loads(new.read_text())
    opened = json.loads(aead.decrypt(b64decode(data["nonce"]), b64decode(data["ciphertext"]), user.encode()))
    assert {u: b64decode(v) for u, v in opened.items()} == seeds

"""Cross-signing, secret storage and the recovery key, checked against other implementations: Synapse's
``canonicaljson`` and ``signedjson`` in Python, and matrix-js-sdk's own secret-storage code in Node."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import canonicaljson
import pytest
import signedjson.key
import signedjson.sign
from hypothesis import given
from hypothesis import strategies as st

from bot.matrix.crypto.cross_signing import CrossSigningKeys, PublishedIdentity, signed_devices
from bot.matrix.crypto.identity import LocalKeys, RecoveryKeySource
from bot.matrix.crypto.secret_storage import (RecoveryKeyError, SecretStorageError, StorageKey, decode_recovery_key, decrypt,
                                     encode_recovery_key, key_matches)
from bot.matrix.crypto.signing import SigningKey, canonical_json, sign_json, verify_json
from bot.matrix.crypto.withheld import notice_key
from tests.element import ROOT, node_ready

json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**53 + 1, 2**53 - 1) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                           max_leaves=20)


@given(json_values)
def test_canonical_json_is_byte_for_byte_synapses(value):
    assert canonical_json(value) == canonicaljson.encode_canonical_json(value)


def test_signatures_verify_with_signedjson_and_cover_everything_but_signatures_and_unsigned():
    key = SigningKey.generate()
    obj = {"user_id": "@hub:example.org", "keys": {"ed25519:X": "y"}, "unsigned": {"note": "free"}}
    signed = sign_json(obj, "@hub:example.org", key.public, key)
    verify_key = signedjson.key.decode_verify_key_base64("ed25519", key.public, key.public)
    signedjson.sign.verify_signed_json(signed, "@hub:example.org", verify_key)  # raises if wrong
    assert verify_json({**signed, "unsigned": {"other": 1}}, "@hub:example.org", key.public, key.public)
    assert not verify_json({**signed, "keys": {}}, "@hub:example.org", key.public, key.public)
    assert not verify_json(signed, "@someone:example.org", key.public, key.public)


def _device(user: str, device_id: str) -> dict:
    return {"user_id": user, "device_id": device_id, "algorithms": ["m.megolm.v1.aes-sha2"],
            "keys": {f"ed25519:{device_id}": "ED" + device_id, f"curve25519:{device_id}": "CU" + device_id}}


def test_a_device_counts_as_signed_only_through_a_master_signed_self_signing_key():
    user = "@ala:example.org"
    keys = CrossSigningKeys.generate()
    body = keys.upload_body(user)
    good = sign_json(_device(user, "GOOD"), user, keys.self_signing.public, keys.self_signing)
    stranger = SigningKey.generate()
    forged = sign_json(_device(user, "FORGED"), user, stranger.public, stranger)
    response = {"device_keys": {user: {"GOOD": good, "FORGED": forged, "PLAIN": _device(user, "PLAIN")}},
                "master_keys": {user: body["master_key"]}, "self_signing_keys": {user: body["self_signing_key"]},
                "user_signing_keys": {user: body["user_signing_key"]}}
    assert signed_devices(response) == {(user, "GOOD"): "EDGOOD"}
    identity = PublishedIdentity.from_query(response, user)
    assert keys.matches(identity) and not CrossSigningKeys.generate().matches(identity)
    # A self-signing key the master key did not sign makes no device trusted.
    unsigned_ssk = {**body["self_signing_key"], "signatures": {}}
    assert signed_devices({**response, "self_signing_keys": {user: unsigned_ssk}}) == {}


def test_recovery_keys_round_trip_and_typos_are_caught():
    key = secrets.token_bytes(32)
    text = encode_recovery_key(key)
    assert len(text.split()) == 12 and all(len(group) == 4 for group in text.split()[:-1])
    assert decode_recovery_key(text) == key
    assert decode_recovery_key(text.replace(" ", "")) == key
    wrong = text[:5] + ("2" if text[5] != "2" else "3") + text[6:]
    with pytest.raises(RecoveryKeyError):
        decode_recovery_key(wrong)
    with pytest.raises(RecoveryKeyError):
        decode_recovery_key("0OIl not base58")


def test_secrets_open_only_with_their_key_and_name():
    storage = StorageKey.generate()
    content = storage.encrypt_secret("m.cross_signing.master", "c2VlZA")
    assert storage.decrypt_secret("m.cross_signing.master", content) == "c2VlZA"
    with pytest.raises(SecretStorageError):
        storage.decrypt_secret("m.cross_signing.self_signing", content)
    with pytest.raises(SecretStorageError):
        StorageKey(storage.key_id, secrets.token_bytes(32)).decrypt_secret("m.cross_signing.master", content)
    description = storage.description("test")
    assert key_matches(storage.key, description) and not key_matches(secrets.token_bytes(32), description)


@pytest.mark.skipif(node_ready() is not None, reason=str(node_ready()))
def test_matrix_js_sdk_opens_what_the_bot_stores_and_the_bot_opens_what_it_stores():
    storage = StorageKey.generate()
    raw = secrets.token_bytes(32)
    request = {"recoveryKey": storage.recovery_key, "name": "m.cross_signing.user_signing",
               "payload": storage.encrypt_secret("m.cross_signing.user_signing", "dXNlci1zaWduaW5n")["encrypted"][
                   storage.key_id],
               "description": storage.description("test"), "plaintext": "from element", "rawKey": raw.hex()}
    done = subprocess.run(["node", str(ROOT / "tests" / "js" / "secret_storage_check.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["keyHex"] == storage.key.hex()
    assert answer["decrypted"] == "dXNlci1zaWduaW5n"
    assert answer["checkMac"].rstrip("=") == request["description"]["mac"].rstrip("=")
    assert decode_recovery_key(answer["encodedByJs"]) == raw and answer["encodedByJs"] == encode_recovery_key(raw)
    assert decrypt(storage.key, "m.cross_signing.user_signing", answer["encryptedByJs"]) == "from element"


def test_the_recovery_key_file_is_written_once_private_and_kept_when_replaced(tmp_path: Path):
    source = RecoveryKeySource(tmp_path / "recovery-key.txt", env={})
    first = StorageKey.generate()
    source.write(first, "@hub:example.org")
    assert oct((tmp_path / "recovery-key.txt").stat().st_mode & 0o777) == "0o600"
    assert source.key() == first.key
    source.write(first, "@hub:example.org")  # the same key again: nothing changes
    assert len(list(tmp_path.iterdir())) == 1
    second = StorageKey.generate()
    source.write(second, "@hub:example.org")
    assert source.key() == second.key
    assert len(list(tmp_path.glob("recovery-key.txt.replaced-*"))) == 1
    from_env = RecoveryKeySource(tmp_path / "unused.txt", env={"LEADERS_HUB_MATRIX_RECOVERY_KEY": first.recovery_key})
    assert from_env.key() == first.key and from_env.location == "$LEADERS_HUB_MATRIX_RECOVERY_KEY"
    from_env.write(second, "@hub:example.org")
    assert not (tmp_path / "unused.txt").exists()


def test_local_keys_need_the_pickle_key(tmp_path: Path):
    keys = CrossSigningKeys.generate()
    LocalKeys(tmp_path / "cs.json", "pickle one").save("@hub:x", keys)
    assert oct(os.stat(tmp_path / "cs.json").st_mode & 0o777) == "0o600"
    assert LocalKeys(tmp_path / "cs.json", "pickle one").load("@hub:x") == keys
    assert LocalKeys(tmp_path / "cs.json", "another").load("@hub:x") is None
    assert LocalKeys(tmp_path / "cs.json", "pickle one").load("@other:x") is None


def test_withheld_codes_choose_whether_sending_again_can_help():
    assert notice_key("m.unverified", own_device_signed=True) == "runtime.undecryptable.unverified"
    assert notice_key("m.unverified", own_device_signed=False) == "runtime.undecryptable.unsigned"
    assert notice_key("m.blacklisted", True) == "runtime.undecryptable.blacklisted"
    assert notice_key("m.no_olm", True) == "runtime.undecryptable.no_olm"
    assert notice_key(None, True) == notice_key("m.unavailable", True) == "runtime.undecryptable"

"""The bot's cross-signing identity: created once, kept in secret storage, restored on every new device.

``CrossSigning.ensure()`` runs at every start, after the device's keys are uploaded:

- no identity on the homeserver: create master, self-signing and user-signing keys; keep them (here,
  encrypted with the store's pickle key, and in the account's secret storage under a new default
  secret-storage key whose recovery key is written once to ``recovery_key_file``); upload them (with
  password user-interactive auth when the homeserver asks); sign this device;
- an identity this store already holds: sign this device if it is not signed yet (restart: nothing to do);
- an identity this store does not hold (a new device: store lost, new machine, a second instance):
  take the keys out of secret storage with the recovery key, check they are the published identity,
  keep them, sign this device: the same master key before and after;
- an identity that cannot be restored (no recovery key, or one that does not open secret storage):
  never replaced silently. The bot runs unsigned, says why in the log and in ``!status``, and
  ``leaders-hub crypto reset`` replaces the identity on purpose.

Every step is safe to repeat: keys are kept locally, and the recovery key written, before anything
changes on the homeserver, so a crash in the middle resumes with the same keys.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES

from bot.matrix.crypto.api import ApiError, MatrixApi
from bot.matrix.crypto.cross_signing import SECRET_NAMES, USAGES, CrossSigningKeys, PublishedIdentity, key_object
from bot.matrix.crypto.secret_storage import (DEFAULT_KEY_TYPE, RecoveryKeyError, SecretStorageError, StorageKey,
                                     decode_recovery_key, hkdf_sha256, key_matches)
from bot.matrix.crypto.signing import SigningKey, b64decode, b64encode, fingerprint, sign_json

log = logging.getLogger(__name__)

RECOVERY_ENV = "LEADERS_HUB_MATRIX_RECOVERY_KEY"
KEY_NAME = "Leaders Hub recovery key"


class IdentityProblem(Exception):
    """Why the identity cannot be set up; ``code`` names it for ``!status`` and the CLI."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass
class IdentityStatus:
    state: str  # ready | unsigned | no_identity | needs_recovery_key | wrong_recovery_key | auth_refused | error
    master: str | None = None
    device_signed: bool = False
    recovery_key_location: str | None = None
    problem: str | None = None

    @property
    def master_fingerprint(self) -> str | None:
        return fingerprint(self.master) if self.master else None

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "master_key": self.master, "device_signed": self.device_signed,
                "recovery_key": self.recovery_key_location, "problem": self.problem}


# ----- the recovery key: a file outside the store, or the environment --------------------------------

class RecoveryKeySource:
    def __init__(self, path: Path, env: dict[str, str] | None = None):
        self.path = path
        self.env = os.environ if env is None else env

    @property
    def location(self) -> str:
        return f"${RECOVERY_ENV}" if self.env.get(RECOVERY_ENV) else str(self.path)

    def read(self) -> str | None:
        if self.env.get(RECOVERY_ENV):
            return self.env[RECOVERY_ENV].strip()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None
        keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return keys[-1] if keys else None

    def key(self) -> bytes | None:
        text = self.read()
        if text is None:
            return None
        try:
            return decode_recovery_key(text)
        except RecoveryKeyError as exc:
            raise IdentityProblem("wrong_recovery_key", f"the recovery key in {self.location} is unusable: {exc}")

    def write(self, key: StorageKey, user_id: str) -> None:
        """Write the recovery key once (mode 0600); an older file is kept beside it, never overwritten."""
        if self.env.get(RECOVERY_ENV):
            return  # the operator keeps it; nothing to write
        if self.path.exists():
            existing = self.read()
            if existing and _same_key(existing, key.key):
                return
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            self.path.rename(self.path.with_name(f"{self.path.name}.replaced-{stamp}"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = (f"# Leaders Hub recovery key of {user_id} (secret-storage key {key.key_id}),\n"
                f"# written {dt.date.today().isoformat()}. It opens the bot's cross-signing keys in the account's\n"
                f"# secret storage: keep a copy somewhere safe, away from the bot's store.\n{key.recovery_key}\n")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)


def _same_key(text: str, key: bytes) -> bool:
    try:
        return decode_recovery_key(text) == key
    except RecoveryKeyError:
        return False


# ----- the private keys, kept in the store, encrypted with the pickle key ----------------------------

GCM_TAG = 16  # bytes, after the ciphertext (as the file has always been written)


def aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """AES-256-GCM: the ciphertext followed by its 16-byte tag."""
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=GCM_TAG)
    cipher.update(associated)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return ciphertext + tag


def aes_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, associated: bytes) -> bytes:
    """The plaintext of ``aes_gcm_encrypt``'s output; ValueError when the tag does not match."""
    if len(data) < GCM_TAG:
        raise ValueError("too short for AES-GCM")
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=GCM_TAG)
    cipher.update(associated)
    return cipher.decrypt_and_verify(data[:-GCM_TAG], data[-GCM_TAG:])


class LocalKeys:
    def __init__(self, path: Path, pickle_key: str):
        self.path = path
        self._key = hkdf_sha256(pickle_key.encode("utf-8"), 32, None, b"leaders-hub cross-signing keys")

    def load(self, user_id: str) -> CrossSigningKeys | None:
        try:
            data = json.loads(self.path.read_text())
            if data.get("user_id") != user_id:
                return None
            plain = json.loads(aes_gcm_decrypt(self._key, b64decode(data["nonce"]), b64decode(data["ciphertext"]),
                                               user_id.encode()))
            return CrossSigningKeys(*(SigningKey(b64decode(plain[u])) for u in USAGES))
        except FileNotFoundError:
            return None
        except Exception:  # unreadable, or another pickle key: treat as absent, secret storage is the truth
            log.warning("the cross-signing keys kept in %s cannot be read; restoring them from secret storage",
                        self.path)
            return None

    def save(self, user_id: str, keys: CrossSigningKeys) -> None:
        nonce = secrets.token_bytes(12)
        plain = json.dumps({u: b64encode(keys.by_usage(u).seed) for u in USAGES}).encode()
        data = {"user_id": user_id, "nonce": b64encode(nonce),
                "ciphertext": b64encode(aes_gcm_encrypt(self._key, nonce, plain, user_id.encode()))}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        tmp.replace(self.path)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


# ----- the identity ----------------------------------------------------------------------------------

class CrossSigning:
    def __init__(self, api: MatrixApi, user_id: str, device_id: str, local: LocalKeys, recovery: RecoveryKeySource,
                 password: str | None = None):
        self.api = api
        self.user_id = user_id
        self.device_id = device_id
        self.local = local
        self.recovery = recovery
        self.password = password
        self.keys: CrossSigningKeys | None = None
        self.recovery_key_created: str | None = None  # a recovery key made by this run (shown once by the CLI)
        self.status = IdentityStatus("unknown", recovery_key_location=recovery.location)

    async def published(self) -> tuple[PublishedIdentity, dict[str, Any] | None, dict[str, Any]]:
        """The identity the homeserver publishes, this device's key object, and the raw answer."""
        response = await self.api.query_keys([self.user_id])
        device = ((response.get("device_keys") or {}).get(self.user_id) or {}).get(self.device_id)
        return PublishedIdentity.from_query(response, self.user_id), device, response

    async def read_status(self) -> IdentityStatus:
        """What the homeserver shows now, without changing anything."""
        identity, device, _ = await self.published()
        signed = bool(device and identity.signs_device(device))
        if identity.master is None:
            state = "no_identity"
        else:
            state = "ready" if signed else "unsigned"
        held = self.local.load(self.user_id)
        problem = None
        if identity.master and held and not held.matches(identity):
            problem = "the keys in this store are not the published identity"
        return IdentityStatus(state, identity.master, signed, self.recovery.location, problem)

    async def ensure(self, create: bool = True) -> IdentityStatus:
        """Create (``create``), restore or check the identity and sign this device with it."""
        try:
            self.status = await self._ensure(create)
        except IdentityProblem as exc:
            log.error("cross-signing: %s", exc)
            self.status = IdentityStatus(exc.code, self.status.master, False, self.recovery.location, str(exc))
        except ApiError as exc:
            log.error("cross-signing: the homeserver refused it (%s)", exc)
            self.status = IdentityStatus("error", self.status.master, False, self.recovery.location, str(exc))
        return self.status

    async def _ensure(self, create: bool = True) -> IdentityStatus:
        identity, device, _ = await self.published()
        self.status.master = identity.master
        held = self.local.load(self.user_id)
        if identity.master is None and not create:
            raise IdentityProblem("waiting", "the account has no cross-signing identity yet (the active instance "
                                  "creates it)")
        if identity.master is None:
            keys = held or CrossSigningKeys.generate()
            await self._publish(keys, fresh_storage=False)
            identity, device, _ = await self.published()
            log.info("created the cross-signing identity of %s (master key %s); recovery key in %s", self.user_id,
                     fingerprint(keys.master.public), self.recovery.location)
        elif held and held.matches(identity):
            keys = held
        else:
            keys = await self._restore(identity)
            self.local.save(self.user_id, keys)
            log.info("restored the cross-signing identity of %s (master key %s) from secret storage", self.user_id,
                     fingerprint(identity.master or ''))
        self.keys = keys
        if device is None:
            raise IdentityProblem("error", f"the homeserver does not list this device ({self.device_id}) yet")
        if not identity.signs_device(device):
            await self._sign_device(keys, device)
            log.info("signed device %s with the self-signing key", self.device_id)
        return IdentityStatus("ready", keys.master.public, True, self.recovery.location)

    async def _restore(self, identity: PublishedIdentity) -> CrossSigningKeys:
        key = self.recovery.key()
        if key is None:
            raise IdentityProblem(
                "needs_recovery_key",
                f"{self.user_id} already has a cross-signing identity (master key {fingerprint(identity.master or '')}) "
                f"that this store does not hold, and there is no recovery key ({self.recovery.location}). Put the "
                f"recovery key there (or in ${RECOVERY_ENV}) and restart, or replace the identity on purpose with "
                f"`leaders-hub crypto reset`. Until then this device is not signed and Element will not talk to it "
                f"in encrypted rooms.")
        storage = await self._storage_key(key)
        if storage is None:
            raise IdentityProblem(
                "wrong_recovery_key",
                f"the recovery key in {self.recovery.location} does not open the secret storage of {self.user_id}; "
                f"use the right one, or replace the identity on purpose with `leaders-hub crypto reset`")
        seeds = {}
        for usage in USAGES:
            content = await self.api.get_account_data(self.user_id, SECRET_NAMES[usage])
            try:
                seeds[usage] = SigningKey(b64decode(storage.decrypt_secret(SECRET_NAMES[usage], content or {})))
            except (SecretStorageError, ValueError) as exc:
                raise IdentityProblem("wrong_recovery_key", f"secret storage does not hold a usable "
                                      f"{SECRET_NAMES[usage]}: {exc}") from None
        keys = CrossSigningKeys(seeds["master"], seeds["self_signing"], seeds["user_signing"])
        if not keys.matches(identity):
            raise IdentityProblem(
                "wrong_recovery_key",
                f"secret storage holds other cross-signing keys than the published identity (master key "
                f"{fingerprint(identity.master or '')}); replace the identity on purpose with `leaders-hub crypto reset`")
        return keys

    async def _storage_key(self, key: bytes) -> StorageKey | None:
        """The default secret-storage key, if ``key`` is it."""
        default = await self.api.get_account_data(self.user_id, DEFAULT_KEY_TYPE)
        key_id = (default or {}).get("key")
        if not isinstance(key_id, str):
            return None
        description = await self.api.get_account_data(self.user_id, f"m.secret_storage.key.{key_id}")
        if not description or not key_matches(key, description):
            return None
        return StorageKey(key_id, key)

    async def _publish(self, keys: CrossSigningKeys, fresh_storage: bool) -> None:
        """Keep the keys (locally and in secret storage), then upload them. Repeatable after a crash."""
        self.local.save(self.user_id, keys)
        existing = self.recovery.key()
        storage = None if fresh_storage or existing is None else await self._storage_key(existing)
        if storage is None:
            if existing is not None and self.recovery.location.startswith("$") and not fresh_storage:
                raise IdentityProblem("wrong_recovery_key", f"the recovery key in {self.recovery.location} does not "
                                      f"open the secret storage of {self.user_id}")
            storage = StorageKey.generate()
            self.recovery_key_created = storage.recovery_key
            self.recovery.write(storage, self.user_id)  # before the homeserver hears of it
            await self.api.put_account_data(self.user_id, f"m.secret_storage.key.{storage.key_id}",
                                            storage.description(KEY_NAME))
            await self.api.put_account_data(self.user_id, DEFAULT_KEY_TYPE, {"key": storage.key_id})
        for usage in USAGES:
            seed = b64encode(keys.by_usage(usage).seed)
            await self.api.put_account_data(self.user_id, SECRET_NAMES[usage],
                                            storage.encrypt_secret(SECRET_NAMES[usage], seed))
        try:
            await self.api.upload_cross_signing(keys.upload_body(self.user_id), self._password_auth)
        except ApiError as exc:
            if exc.status == 401:
                raise IdentityProblem(
                    "auth_refused",
                    f"the homeserver wants the account's password to publish the cross-signing keys and "
                    f"{'refused it' if self.password else 'none is configured'}: set [matrix] password (or "
                    f"LEADERS_HUB_MATRIX_PASSWORD) and restart") from None
            raise

    async def _password_auth(self, challenge: dict[str, Any]) -> dict[str, Any] | None:
        flows = [flow.get("stages") or [] for flow in challenge.get("flows") or []]
        if not self.password or not any(stages == ["m.login.password"] for stages in flows):
            return None
        auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": self.password}
        if challenge.get("session"):
            auth["session"] = challenge["session"]
        return auth

    async def _sign_device(self, keys: CrossSigningKeys, device: dict[str, Any]) -> None:
        signed = sign_json(device, self.user_id, keys.self_signing.public, keys.self_signing)
        failures = await self.api.upload_signatures({self.user_id: {self.device_id: signed}})
        if failures:
            raise IdentityProblem("error", f"the homeserver refused the device signature: {failures}")

    async def sign_user(self, user_id: str, master_obj: dict[str, Any]) -> None:
        """After a verification: sign ``user_id``'s master key with the user-signing key."""
        if self.keys is None:
            raise IdentityProblem("unsigned", "this device holds no cross-signing keys")
        signed = sign_json(master_obj, self.user_id, self.keys.user_signing.public, self.keys.user_signing)
        failures = await self.api.upload_signatures({user_id: {_only_key(master_obj): signed}})
        if failures:
            raise IdentityProblem("error", f"the homeserver refused the signature of {user_id}'s key: {failures}")

    async def reset(self) -> IdentityStatus:
        """Replace the identity on purpose: new keys, a new secret-storage key and recovery key."""
        keys = CrossSigningKeys.generate()
        self.local.delete()
        await self._publish(keys, fresh_storage=True)
        self.keys = keys
        identity, device, _ = await self.published()
        if device is not None and not identity.signs_device(device):
            await self._sign_device(keys, device)
        self.status = IdentityStatus("ready", keys.master.public, device is not None, self.recovery.location)
        return self.status


def _only_key(key_obj: dict[str, Any]) -> str:
    return next(iter((key_obj.get("keys") or {}).values()))


__all__ = ["CrossSigning", "IdentityProblem", "IdentityStatus", "LocalKeys", "RECOVERY_ENV", "RecoveryKeySource",
           "key_object"]

"""Cross-signing keys and the trust they give, as the Matrix spec defines them (pure, no I/O).

An account's identity is its master key. The master key signs the self-signing key (which signs the
account's own devices) and the user-signing key (which signs other people's master keys once they
are verified). A device is "signed by its owner" when its device keys carry a valid signature of the
owner's self-signing key, and that key carries a valid signature of the owner's master key: what
Element requires of every device it exchanges encrypted messages with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.matrix.crypto.signing import SigningKey, sign_json, verify_json

USAGES = ("master", "self_signing", "user_signing")
SECRET_NAMES = {usage: f"m.cross_signing.{usage}" for usage in USAGES}


def key_object(user_id: str, usage: str, public: str) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{public}": public}}


def public_key_of(key_obj: dict[str, Any] | None, usage: str | None = None) -> str | None:
    """The one Ed25519 key of a cross-signing key object (None when malformed or of another usage)."""
    if not isinstance(key_obj, dict):
        return None
    if usage is not None and usage not in (key_obj.get("usage") or []):
        return None
    keys = [v for k, v in (key_obj.get("keys") or {}).items() if isinstance(k, str) and k.startswith("ed25519:")
            and isinstance(v, str)]
    return keys[0] if len(keys) == 1 else None


@dataclass(frozen=True)
class CrossSigningKeys:
    """The three private keys of an identity."""

    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> "CrossSigningKeys":
        return cls(SigningKey.generate(), SigningKey.generate(), SigningKey.generate())

    def by_usage(self, usage: str) -> SigningKey:
        return {"master": self.master, "self_signing": self.self_signing, "user_signing": self.user_signing}[usage]

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """The body of ``/keys/device_signing/upload``: the public keys, the two sub-keys signed by the master."""
        master = key_object(user_id, "master", self.master.public)
        body = {"master_key": master}
        for usage in ("self_signing", "user_signing"):
            body[f"{usage}_key"] = sign_json(key_object(user_id, usage, self.by_usage(usage).public), user_id,
                                             self.master.public, self.master)
        return body

    def matches(self, published: "PublishedIdentity") -> bool:
        """Whether these private keys are the identity the homeserver publishes."""
        return (published.master == self.master.public and published.self_signing in (None, self.self_signing.public)
                and published.user_signing in (None, self.user_signing.public))


@dataclass(frozen=True)
class PublishedIdentity:
    """A user's cross-signing public keys as ``/keys/query`` returns them (each None when absent)."""

    user_id: str
    master: str | None
    self_signing: str | None
    user_signing: str | None
    master_obj: dict[str, Any] | None = None
    self_signing_obj: dict[str, Any] | None = None

    @classmethod
    def from_query(cls, response: dict[str, Any], user_id: str) -> "PublishedIdentity":
        master_obj = (response.get("master_keys") or {}).get(user_id)
        ssk_obj = (response.get("self_signing_keys") or {}).get(user_id)
        usk_obj = (response.get("user_signing_keys") or {}).get(user_id)
        master = public_key_of(master_obj, "master")
        ssk = public_key_of(ssk_obj, "self_signing")
        # The self-signing key counts only with the master key's signature on it.
        if ssk and not (master and isinstance(ssk_obj, dict) and verify_json(ssk_obj, user_id, master, master)):
            ssk = None
        usk = public_key_of(usk_obj, "user_signing")
        return cls(user_id, master, ssk, usk, master_obj if master else None, ssk_obj if ssk else None)

    def signs_device(self, device_keys: dict[str, Any]) -> bool:
        """Whether this identity's self-signing key signed ``device_keys`` (a ``/keys/query`` device object)."""
        if not self.self_signing or device_keys.get("user_id") != self.user_id:
            return False
        return verify_json(device_keys, self.user_id, self.self_signing, self.self_signing)


def signed_devices(response: dict[str, Any]) -> dict[tuple[str, str], str]:
    """From a ``/keys/query`` response: ``(user, device) → ed25519 key`` of every device signed by its owner."""
    found: dict[tuple[str, str], str] = {}
    for user_id, devices in (response.get("device_keys") or {}).items():
        identity = PublishedIdentity.from_query(response, user_id)
        if not identity.self_signing or not isinstance(devices, dict):
            continue
        for device_id, keys in devices.items():
            if not isinstance(keys, dict) or keys.get("device_id") != device_id:
                continue
            ed25519 = (keys.get("keys") or {}).get(f"ed25519:{device_id}")
            if isinstance(ed25519, str) and identity.signs_device(keys):
                found[(user_id, device_id)] = ed25519
    return found

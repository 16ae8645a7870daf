"""``leaders-hub crypto …``: the operator's view of the bot's encryption identity, and a reset on purpose."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from typing import Any

from bot.config import Config, resolve_path
from bot.matrix.crypto.api import ApiError, MatrixApi
from bot.matrix.crypto.identity import RECOVERY_ENV, CrossSigning, IdentityProblem, LocalKeys, RecoveryKeySource
from bot.matrix.crypto.signing import fingerprint


def _session(config: Config) -> dict[str, Any]:
    store = resolve_path(config, config["matrix"]["store_path"])
    try:
        return json.loads((store / "session.json").read_text())
    except (OSError, ValueError):
        raise SystemExit(f"No stored session in {store}: start the bot once (leaders-hub run) so that it logs in "
                         f"and creates its device.") from None


def _pickle_key(config: Config) -> str:
    if config["matrix"].get("pickle_key"):
        return config["matrix"]["pickle_key"]
    key_file = resolve_path(config, config["matrix"]["store_path"]) / "pickle.key"
    try:
        return key_file.read_text().strip()
    except OSError:
        return ""


def _cross_signing(config: Config, api: MatrixApi, session: dict[str, Any], password: str | None) -> CrossSigning:
    m = config["matrix"]
    store = resolve_path(config, m["store_path"])
    return CrossSigning(api, m["user_id"], session["device_id"], LocalKeys(store / "cross_signing.json",
                                                                          _pickle_key(config)),
                        RecoveryKeySource(resolve_path(config, m["recovery_key_file"])), password=password)


async def _status(config: Config) -> dict[str, Any]:
    session = _session(config)
    api = MatrixApi(config["matrix"]["homeserver"], session["access_token"], retries=2)
    try:
        identity = _cross_signing(config, api, session, None)
        status = await identity.read_status()
        recovery = identity.recovery
        try:
            key = recovery.key()
            opens = None if key is None else (await identity._storage_key(key)) is not None
            recovery_problem = None
        except IdentityProblem as exc:
            opens, recovery_problem = False, str(exc)
        return {"user_id": config["matrix"]["user_id"], "device_id": session["device_id"], **status.to_json(),
                "master_fingerprint": status.master_fingerprint, "recovery_key_present": recovery.read() is not None,
                "recovery_key_opens_secret_storage": opens, "recovery_key_problem": recovery_problem,
                "keys_in_store": identity.local.load(config["matrix"]["user_id"]) is not None}
    finally:
        await api.close()


def cmd_status(config: Config, as_json: bool) -> int:
    try:
        info = asyncio.run(_status(config))
    except ApiError as exc:
        print(f"The homeserver refused the request: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"The homeserver {config['matrix']['homeserver']} cannot be reached: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(info, indent=1))
        return 0
    yes_no = {True: "yes", False: "no", None: "—"}
    print(f"Account:          {info['user_id']}, device {info['device_id']}")
    print(f"Identity:         {info['master_fingerprint'] or 'none yet (the bot creates one at its next start)'}")
    print(f"Device signed:    {yes_no[info['device_signed']]}")
    print(f"Keys in store:    {yes_no[info['keys_in_store']]}")
    opens = info["recovery_key_opens_secret_storage"]
    where = info["recovery_key"]
    print(f"Recovery key:     {where} ({'present' if info['recovery_key_present'] else 'missing'}"
          f"{'' if opens is None else ', opens secret storage' if opens else ', does NOT open secret storage'})")
    if info["recovery_key_problem"]:
        print(f"Problem:          {info['recovery_key_problem']}")
    elif info["problem"]:
        print(f"Problem:          {info['problem']}")
    return 0 if info["state"] == "ready" else 1


async def _reset(config: Config, password: str | None) -> tuple[str, str | None]:
    session = _session(config)
    api = MatrixApi(config["matrix"]["homeserver"], session["access_token"], retries=2)
    try:
        identity = _cross_signing(config, api, session, password)
        status = await identity.reset()
        shown = None
        if identity.recovery.location.startswith("$"):  # the operator keeps it in the environment: show it once
            shown = identity.recovery_key_created
        return status.master or "", shown
    finally:
        await api.close()


def cmd_reset(config: Config, yes: bool) -> int:
    user = config["matrix"]["user_id"]
    if not yes:
        print(f"This replaces the cross-signing identity of {user}: everyone who verified the bot will have to "
              f"verify it again, and a new recovery key is made.\nThe bot should be stopped while this runs.")
        if input("Type RESET to go on: ").strip() != "RESET":
            print("Nothing changed.")
            return 1
    password = config["matrix"].get("password")
    if not password and sys.stdin.isatty():
        password = getpass.getpass(f"Password of {user} (the homeserver asks for it): ") or None
    try:
        master, shown = asyncio.run(_reset(config, password))
    except IdentityProblem as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ApiError as exc:
        print(f"The homeserver refused it: {exc}", file=sys.stderr)
        return 1
    print(f"New identity of {user}: master key {fingerprint(master)}.")
    if shown:
        print(f"New recovery key (put it in ${RECOVERY_ENV}, and keep a copy somewhere safe):\n{shown}")
    else:
        print(f"New recovery key written to {resolve_path(config, config['matrix']['recovery_key_file'])} "
              f"(mode 0600); keep a copy somewhere safe. Restart the bot.")
    return 0


def cmd_verify(config: Config, timeout: float, answer: str | None = None) -> int:
    """Wait for a verification the running bot is taking part in; show its emoji; ask; pass the answer on."""
    import time

    folder = resolve_path(config, config["matrix"]["store_path"]) / "verification"
    user = config["matrix"]["user_id"]
    started = time.time()
    print(f"Waiting for someone to verify {user}: in Element, open the bot's profile and choose Verify "
          f"(the bot must be running; only its admins may verify it) …", flush=True)
    pending = None
    while time.time() - started < timeout:
        candidates = sorted(folder.glob("pending-*.json"), key=lambda p: p.stat().st_mtime) if folder.exists() else []
        if candidates:
            pending = json.loads(candidates[-1].read_text(encoding="utf-8"))
            break
        time.sleep(0.3)
    if pending is None:
        print("No verification came.", file=sys.stderr)
        return 1
    print(f"\n{pending['user']} (device {pending['device']}) is verifying the bot. Element shows them:")
    print("  " + "   ".join(f"{symbol} {name}" for symbol, name in pending["emoji"]))
    print("  or the numbers " + " ".join(str(n) for n in pending["decimals"]), flush=True)
    reply = answer if answer is not None else input("Do they match what Element shows? [y/N] ")
    match = reply.strip().lower() in ("y", "yes", "t", "tak")
    tmp = folder / f".answer-{pending['id']}.tmp"
    tmp.write_text(json.dumps({"match": match}))
    tmp.replace(folder / f"answer-{pending['id']}.json")
    result_file = folder / f"result-{pending['id']}.json"
    while time.time() - started < timeout + 60:
        if result_file.exists():
            result = json.loads(result_file.read_text())
            if result["state"] == "done":
                print(f"Verified. The bot trusts {pending['user']} now (it signed their key), and their Element "
                      f"shows the bot as verified.")
                return 0
            print(f"The verification was cancelled ({result.get('code')}).")
            return 1
        time.sleep(0.3)
    print("The bot did not finish the verification.", file=sys.stderr)
    return 1


__all__ = ["cmd_reset", "cmd_status", "cmd_verify"]

"""A real Synapse homeserver on loopback, for the demo, the tests and the benchmarks.

It needs the ``matrix-synapse`` package (the ``demo``/``test`` extras). The
server uses SQLite in its own folder, listens only on 127.0.0.1 and speaks
no federation. Users are registered with the shared-secret admin API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Homeserver:
    def __init__(self, base_dir: Path, port: int | None = None, server_name: str = "localhost",
                 relaxed_rate_limits: bool = True, log_level: str = "WARNING",
                 message_rate: tuple[float, int] | None = None):
        self.base_dir = Path(base_dir)
        self.port = port or free_port()
        self.server_name = server_name
        self.relaxed_rate_limits = relaxed_rate_limits
        self.log_level = log_level
        self.message_rate = message_rate  # (per_second, burst) for messages, when testing rate limits
        self.process: subprocess.Popen | None = None
        self.secret_file = self.base_dir / "registration.secret"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.base_dir / "homeserver.yaml"

    def write_config(self) -> None:
        d = self.base_dir
        d.mkdir(parents=True, exist_ok=True)
        (d / "media").mkdir(exist_ok=True)
        if not self.secret_file.exists():
            self.secret_file.write_text(secrets.token_hex(24))
            os.chmod(self.secret_file, 0o600)
        secret = self.secret_file.read_text().strip()
        key_file = d / "signing.key"
        if not key_file.exists():
            from signedjson.key import generate_signing_key, write_signing_keys

            with open(key_file, "w") as f:
                write_signing_keys(f, [generate_signing_key("a_" + secrets.token_hex(2))])
        (d / "log.yaml").write_text(json.dumps({
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "filename": str(d / "homeserver.log"),
                                  "formatter": "plain"}},
            "root": {"level": self.log_level, "handlers": ["file"]},
            "disable_existing_loggers": False,
        }))
        config = {
            "server_name": self.server_name,
            "pid_file": str(d / "homeserver.pid"),
            "listeners": [{"port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
                           "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}],
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "log_config": str(d / "log.yaml"),
            "media_store_path": str(d / "media"),
            "signing_key_path": str(key_file),
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "report_stats": False,
            "registration_shared_secret": secret,
            "macaroon_secret_key": hashlib.sha256((secret + "m").encode()).hexdigest(),
            "form_secret": hashlib.sha256((secret + "f").encode()).hexdigest(),
            "enable_registration": False,
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "federation_domain_whitelist": [],
            # Identical /sync requests are otherwise answered from a 2-minute cache.
            "caches": {"sync_response_cache_duration": 0},
        }
        if self.relaxed_rate_limits:
            fast = {"per_second": 1000, "burst_count": 1000}
            config.update({
                "rc_message": fast, "rc_registration": fast, "rc_login": {"address": fast, "account": fast,
                                                                          "failed_attempts": fast},
                "rc_joins": {"local": fast, "remote": fast}, "rc_invites": {"per_room": fast, "per_user": fast},
                "rc_admin_redaction": fast, "rc_3pid_validation": fast, "rc_key_requests": fast,
                "rc_room_creation": fast, "rc_presence": {"per_user": fast}, "rc_media_create": fast,
                "rc_delayed_event_mgmt": fast, "rc_reports": fast,
            })
        if self.message_rate:
            config["rc_message"] = {"per_second": self.message_rate[0], "burst_count": self.message_rate[1]}
        # JSON is valid YAML: no YAML writer needed.
        self.config_path.write_text(json.dumps(config, indent=1))

    def start(self, timeout: float = 90) -> None:
        if not self.config_path.exists():
            self.write_config()
        log = open(self.base_dir / "stdout.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.base_dir, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.base_dir / "stdout.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Synapse exited with {self.process.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(self.url + "/_matrix/client/versions", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Synapse did not start in time")

    def stop(self, timeout: float = 20) -> None:
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        """Create a user (idempotent: an existing user is fine) and return its id."""
        secret = self.secret_file.read_text().strip()
        url = self.url + "/_synapse/admin/v1/register"
        with urllib.request.urlopen(url, timeout=10) as r:
            nonce = json.load(r)["nonce"]
        mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = json.dumps({"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                           "mac": mac.hexdigest()}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30):
                pass
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            if "M_USER_IN_USE" not in detail:
                raise RuntimeError(f"registering {localpart} failed: {detail}") from None
        return f"@{localpart}:{self.server_name}"

    def exempt_from_rate_limits(self, user_id: str) -> None:
        """Let a test's leaders send freely, so only the bot meets the rate limit."""
        admin = self.register("ratelimit-admin", "ratelimit-admin-pw", admin=True)
        login = json.dumps({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": admin},
                            "password": "ratelimit-admin-pw"}).encode()
        request = urllib.request.Request(self.url + "/_matrix/client/v3/login", data=login,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as r:
            token = json.load(r)["access_token"]
        request = urllib.request.Request(
            f"{self.url}/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            data=json.dumps({"messages_per_second": 0, "burst_count": 0}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30):
            pass

    def __enter__(self) -> "Homeserver":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

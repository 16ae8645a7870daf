"""Prometheus metrics of one running hub (its own registry, so tests can run several)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter("leaders_hub_commands", "Commands handled, by command and outcome",
                                ["command", "outcome"], registry=self.registry)
        self.reply_latency = Histogram(
            "leaders_hub_reply_latency_seconds", "From the command reaching the bot to its reply being sent",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=self.registry)
        self.sync_lag = Gauge("leaders_hub_sync_lag_seconds", "Seconds since the last successful sync",
                              registry=self.registry)
        self.sync_lag.set_function(self._lag)
        self.logged_in = Gauge("leaders_hub_logged_in", "1 when logged in to the homeserver", registry=self.registry)
        self.posts = Counter("leaders_hub_posts", "Messages posted not in reply to a command (announcements, "
                             "reminders, broadcasts, edits), by kind and outcome", ["kind", "outcome"],
                             registry=self.registry)
        self.send_retries = Counter("leaders_hub_send_retries", "Sends retried after an error or a rate limit",
                                    registry=self.registry)
        self.active = Gauge("leaders_hub_active", "1 on the instance that holds the lease (syncs, answers, posts), "
                            "0 on a standby", registry=self.registry)
        self.last_sync: float | None = None

    def _lag(self) -> float:
        return time.monotonic() - self.last_sync if self.last_sync else float("nan")

    def synced(self) -> None:
        self.last_sync = time.monotonic()

    def render(self) -> bytes:
        return generate_latest(self.registry)

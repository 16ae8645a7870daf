"""The composition root: the one place that knows which features make up Leaders Hub.

Everything else is wired from here: the hub gets the features' command sets (their commands, catalogues,
services, background jobs, web routes, config sections and command-line tools), and the config is read
with the sections the features declare. No other module of ``bot`` imports ``commands``.
"""

from __future__ import annotations

from pathlib import Path

from bot import config as config_module
from bot.app import Hub
from bot.config import Config, Key
from bot.router import CommandSet


def features() -> list[CommandSet]:
    """Every feature, in the order ``!help`` lists them."""
    from commands import archive, calculator, core, events, moderation

    return [core.commands, calculator.commands, archive.commands, events.commands, moderation.commands]


def config_sections() -> dict[str, dict[str, Key]]:
    """The config sections the features declare (``[events]`` …), besides the runtime's own."""
    sections: dict[str, dict[str, Key]] = {}
    for feature in features():
        if feature.config is not None:
            name, keys = feature.config
            sections[name] = keys
    return sections


def parse_config(text: str, path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    return config_module.parse_config(text, path, env, sections=config_sections())


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    return config_module.load_config(path, env, sections=config_sections())


async def create_hub(config: Config, migrate: bool = True) -> Hub:
    return await Hub.create(config, features(), migrate=migrate)


def matrix_platform(hub: Hub):
    """The Matrix platform for a hub: the one place, with the tools below, that reaches into ``bot.matrix``."""
    from bot.matrix import MatrixTransport

    return MatrixTransport(hub)


def matrix_tools():
    """The Matrix platform's operator tools: ``leaders-hub crypto …`` and the demo."""
    from bot.matrix.crypto import operator
    from bot.matrix.demo import run_demo

    return operator, run_demo

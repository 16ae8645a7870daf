"""The Matrix platform: every line of matrix-nio code lives in this package (transport, room
administration, encryption, the demo's set-up). The rest of the bot speaks to it as ``bot.platform.Platform``."""

from bot.matrix.transport import MatrixTransport

__all__ = ["MatrixTransport"]

"""SQLAlchemy models, one module per feature (the runtime's own in ``runtime``), each with its migration
under ``storage/migrations/versions``. Everything is re-exported here."""

from storage.models.archive import Experience, PublicName, Solution
from storage.models.base import Base, utcnow
from storage.models.calculator import CalcScenario
from storage.models.events import Announcement, EventMessage, HubEvent, Rsvp, ScheduledSend
from storage.models.moderation import Mute
from storage.models.runtime import (AuditEntry, BotMessage, BotState, InboxEvent, RoleGrant, RoomSettings,
                                    UserSettings)

__all__ = ["Announcement", "AuditEntry", "Base", "BotMessage", "BotState", "CalcScenario", "EventMessage", "Experience", "HubEvent", "InboxEvent", "Mute", "PublicName", "RoleGrant", "RoomSettings", "Rsvp", "ScheduledSend", "Solution", "UserSettings", "utcnow"]

"""Moved to tests/notifications/; the SMTP fixture stays importable from here for older tests."""

from tests.notifications.fixtures import smtp

__all__ = ["smtp"]

"""The notification tests' stand-in servers (tests/notifications/fixtures.py)."""

from tests.notifications.fixtures import push, retry_at_once, sms, smtp

__all__ = ["push", "retry_at_once", "sms", "smtp"]

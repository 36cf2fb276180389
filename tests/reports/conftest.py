"""Fixtures of the report tests: a real local SMTP server (aiosmtpd) that keeps what it gets."""

import pytest

from tests.notifications.servers import start_smtp


@pytest.fixture
def smtp():
    inbox, controller = start_smtp()
    try:
        yield inbox, {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port}
    finally:
        controller.stop()

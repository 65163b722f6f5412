"""Fixtures for attendance: accounts (editors of a hearing, a limited editor)."""
from tests.auth.support import admin, editor, make_user  # noqa: F401  (fixtures)
from tests.reminders.conftest import make_subscription  # noqa: F401,E402  (a fixture)

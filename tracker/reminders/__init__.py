"""The reminders feature."""
from flask import Flask


def init_app(app: Flask) -> None:
    from tracker.reminders import models  # noqa: F401  (tables known to Alembic)

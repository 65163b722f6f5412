"""The editing feature."""
from flask import Flask


def init_app(app: Flask) -> None:
    from tracker.editing import models  # noqa: F401  (tables known to Alembic)

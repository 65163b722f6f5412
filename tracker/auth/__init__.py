"""Accounts and roles: users, login, invitations."""
from flask import Flask

from tracker.extensions import db, login_manager


def init_app(app: Flask) -> None:
    from tracker.auth.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

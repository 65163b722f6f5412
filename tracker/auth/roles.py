"""Who may do what. Every editing route uses one of these decorators or checks.

Admins may do everything. Editors edit case data; an editor with assigned cases
edits only those cases, their defendants and their hearings. A defendant's private
fields go only to those who may edit that defendant (`can_edit`); a hidden defendant
is named only to them too (`can_see`), also on a joint hearing with another case.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, TypeVar

from flask import abort
from flask_login import current_user, login_required

from tracker.auth.models import User
from tracker.records.models import Case, Defendant, Hearing

F = TypeVar("F", bound=Callable)

# Every view declares who may reach it by one of the decorators below, which set
# `view.access`; tests/auth walks app.url_map and fails on a route with no declaration.
PUBLIC, TOKEN, EDITOR, ADMIN = "public", "token", "editor", "admin"


def public(view: F) -> F:
    """Anyone, without logging in (read-only pages, static files, health)."""
    view.access = PUBLIC  # type: ignore[attr-defined]
    return view


def token_access(view: F) -> F:
    """Anyone holding a secret token from the URL (private feeds, confirmation links)."""
    view.access = TOKEN  # type: ignore[attr-defined]
    return view


def admin_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403, description="Only administrators may do this.")
        return view(*args, **kwargs)

    wrapped.access = ADMIN  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def editor_required(view: F) -> F:
    """Any logged-in account (editor or admin); per-case limits are checked with `can_edit`."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.access = EDITOR  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def can_edit(user: User, thing: Case | Defendant | Hearing | None) -> bool:
    """Whether `user` may change `thing` (None: something not tied to a case yet)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin or not user.cases:
        return True
    allowed = {case.id for case in user.cases}
    if thing is None:
        return False
    if isinstance(thing, Case):
        return thing.id in allowed
    if isinstance(thing, Defendant):
        return any(case.id in allowed for case in thing.cases)
    if isinstance(thing, Hearing):
        if thing.case_id is not None:
            return thing.case_id in allowed
        return any(can_edit(user, d) for d in thing.defendants)
    return False


def can_see(user: User, defendant: Defendant) -> bool:
    """Whether `user` may learn that `defendant` exists, by name: public defendants, and the
    ones they may edit. A hidden co-defendant from another case stays unnamed; their private
    fields (lawyers' contacts, internal notes) need `can_edit`, whatever `is_public` says."""
    return defendant.is_public or can_edit(user, defendant)


def require_edit(thing: Case | Defendant | Hearing | None) -> None:
    """Abort with 403 unless the current user may change `thing`."""
    if not can_edit(current_user, thing):
        abort(403, description="Your account may not edit this case.")

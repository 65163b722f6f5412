"""Who may do what: every view's declaration, and the one rule for editors limited to some cases.

Every view declares who may reach it with one of the decorators below, which set
`view.access`; tests/auth walks app.url_map and fails on a route with no declaration.

Admins may do everything. Editors edit case data; an editor with assigned cases edits
only those cases, their defendants and their hearings (`User.case_ids`: None means
every case). Which records belong to which cases is the records' own rule: each model
answers `in_cases(case_ids)`, in Python for one record and in SQL for a query, so this
module reads the user and the record by their attributes and imports neither the
accounts nor the records (both import it). A defendant's private fields go only to those
who may edit that defendant (`can_edit`); a hidden defendant is named only to them too
(`can_see`), also on a joint hearing with another case.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable)
Q = TypeVar("Q", bound=sa.Select)

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
            abort(403, description=_("Only administrators may do this."))
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


def edits_every_case(user: Any) -> bool:
    """An admin, or an editor limited to no case: what is shared by every case (courts, new
    cases) is theirs to change."""
    return bool(user.is_authenticated and user.is_active) and user.case_ids is None


def can_edit(user: Any, thing: Any) -> bool:
    """Whether `user` may change `thing`, a case, defendant or hearing (None: something not
    tied to a case yet, which only editors of every case may change)."""
    if not user.is_authenticated or not user.is_active:
        return False
    allowed = user.case_ids
    if allowed is None:
        return True
    return thing is not None and thing.in_cases(allowed)


def can_see(user: Any, defendant: Any) -> bool:
    """Whether `user` may learn that `defendant` exists, by name: public defendants, and the
    ones they may edit. A hidden co-defendant from another case stays unnamed; their private
    fields (lawyers' contacts, internal notes) need `can_edit`, whatever `is_public` says."""
    return defendant.is_public or can_edit(user, defendant)


def require_edit(thing: Any) -> None:
    """Abort with 403 unless the current user may change `thing`."""
    if not can_edit(current_user, thing):
        abort(403, description=_("Your account may not edit this case."))


def limit_to_editable(query: Q, model: Any, user: Any) -> Q:
    """`query` of cases, defendants or hearings (`model`) narrowed to those `user` may edit:
    the same rule as `can_edit`, in SQL."""
    allowed = user.case_ids
    return query if allowed is None else query.where(model.in_cases(allowed))

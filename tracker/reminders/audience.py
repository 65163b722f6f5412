"""Who follows which hearing: every confirmed subscription whose scope covers it.

A hearing is followed by those who said they will go to it ("hearing:<id>", the
attendance feature), by "all", by each case it belongs to (`Hearing.belongs_to`, the
one rule the case page and the case feed use, counting only its public defendants),
and by each of its public defendants. A hearing with no public defendant is on no
public page and is followed by nobody.

One address, one message: reminders and notices are grouped by address (`followers`),
so someone who follows a defendant and also goes to their hearing gets each reminder
and each notice of it once. The hearing's own scope comes first, so that message is
carried by the attendance (its link is the page to withdraw) wherever the attendance
has the lead time in question (docs/attendance.md).
"""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tracker.records.models import Defendant, Hearing
from tracker.records.queries import public_hearing_clause
from tracker.reminders.models import Subscription

# What `scope_keys` reads of a hearing: load it with the hearings, one select-in each.
FOLLOWED_BY = selectinload(Hearing.defendants).selectinload(Defendant.cases)

ByScope = dict[str, list[Subscription]]


def scope_keys(hearing: Hearing) -> list[str]:
    """Every scope key that follows this hearing (its defendants and their cases loaded)."""
    public = hearing.public_defendants()
    if not public:
        return []
    cases = sorted(hearing.belongs_to(public_only=True))
    return [f"hearing:{hearing.id}", "all", *(f"case:{c}" for c in cases), *(f"defendant:{d.id}" for d in public)]


def subscriptions_by_scope(session: Session, *, digest: bool | None) -> ByScope:
    """Confirmed subscriptions by scope key (only the digest ones, or only the others, or all)."""
    query = sa.select(Subscription).where(Subscription.confirmed_at.is_not(None)).order_by(Subscription.id)
    if digest is not None:
        query = query.where(Subscription.digest.is_(digest))
    by_scope: ByScope = defaultdict(list)
    for subscription in session.scalars(query):
        by_scope[subscription.scope_key].append(subscription)
    return by_scope


def following(hearing: Hearing, by_scope: ByScope) -> list[Subscription]:
    """Every subscription following the hearing, each once."""
    found = {s.id: s for key in scope_keys(hearing) for s in by_scope.get(key, ())}
    return list(found.values())


def followers(hearing: Hearing, by_scope: ByScope) -> dict[str, list[Subscription]]:
    """Subscriptions following the hearing, by address (one address may follow it twice)."""
    by_email: dict[str, list[Subscription]] = {}
    for key in scope_keys(hearing):
        for subscription in by_scope.get(key, ()):
            by_email.setdefault(subscription.email, []).append(subscription)
    return by_email


def load_public_hearings(session: Session, *conditions: sa.ColumnElement[bool]) -> list[Hearing]:
    """Public hearings meeting `conditions`, in start order, with what `scope_keys` reads."""
    return list(session.scalars(
        sa.select(Hearing)
        .where(public_hearing_clause(), *conditions)
        .options(FOLLOWED_BY)
        .order_by(Hearing.starts_at, Hearing.id)
    ))

"""In transit ("на этапе"): a prisoner moved between facilities and not yet known to have
arrived anywhere. Prisoners vanish into transfers for weeks; while they do, letters do not
reach them and their supporters and lawyers do not know where to look.

Nothing is stored about it but the placements: a defendant is in transit when their latest
placement is a row `in_transit` (with no facility) and they are still held. The next
placement with a facility ends it; a release ends it too (the status is no longer a held one).
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from tracker.records.custody import HELD_STATUSES, latest
from tracker.records.models import Defendant, Placement


def current_placement(defendant: Defendant) -> Placement | None:
    """The latest placement (the defendant's placements loaded)."""
    return latest(defendant.placements, "since")


def transit_of(defendant: Defendant) -> Placement | None:
    """The placement that put a held defendant in transit, if they still are (placements loaded)."""
    if defendant.status not in HELD_STATUSES:
        return None
    placement = current_placement(defendant)
    return placement if placement is not None and placement.in_transit else None


def in_transit_since(defendant: Defendant) -> date | None:
    placement = transit_of(defendant)
    return placement.since if placement is not None else None


def first_alert_day(since: date) -> date:
    """The day editors are first told of a transit that began on `since` (TRANSIT_ALERT_DAYS;
    tracker/editing/transit_alerts.py); the private feed shows it."""
    return since + timedelta(days=current_app.config["TRANSIT_ALERT_DAYS"])


def latest_placement_clause() -> sa.ColumnElement[bool]:
    """`Placement` is its defendant's latest row: none later (by date, then as recorded).

    The same order as `current_placement` and the defendant's `placements` list, in SQL.
    """
    later = aliased(Placement)
    return ~sa.exists().where(
        later.defendant_id == Placement.defendant_id,
        sa.or_(later.since > Placement.since, sa.and_(later.since == Placement.since, later.id > Placement.id)),
    )


def transits_query(*, since_on_or_before: date | None = None) -> sa.Select:
    """The placements that hold a defendant in transit now (`transit_of` in SQL), oldest first,
    joined to their defendant (so callers may narrow it with `limit_to_editable`).

    `since_on_or_before` keeps those that began on that day or earlier (the alerts' threshold).
    """
    query = (
        sa.select(Placement)
        .join(Defendant, Defendant.id == Placement.defendant_id)
        .where(Placement.in_transit.is_(True), Defendant.status.in_(HELD_STATUSES), latest_placement_clause())
        .order_by(Placement.since, Placement.id)
    )
    if since_on_or_before is not None:
        query = query.where(Placement.since <= since_on_or_before)
    return query

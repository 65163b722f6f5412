"""An editor's private feed: what only lawyers and case editors should see.

It adds to the public events the defendants hidden from the public, their
internal notes, the day each custody measure lapses unless extended, and the
last day to appeal each first-instance decision. It holds only the cases the
editor may edit (User.cases; none assigned means every case), and of the
co-defendants of another case on a joint hearing, only the public names: hidden
names and notes go only to those who may edit that defendant (access.can_edit). It is reached by
a secret token in the URL (User.feed_token): calendar apps cannot log in.
Replacing or clearing the token revokes every old URL.

Built on request, never written to FEEDS_DIR (a file there would outlive a revoked
token), in a fixed number of queries.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Event
from sqlalchemy.orm import Session, contains_eager, joinedload

from tracker.access import can_edit, limit_to_editable
from tracker.auth.models import User, new_feed_token
from tracker.feeds import calendars, ical
from tracker.feeds.snapshot import FeedSettings, window_clause
from tracker.links import external_url
from tracker.records.custody import measure_in_force_among
from tracker.records.enums import Instance
from tracker.records.models import CustodyMeasure, Decision, Defendant, Hearing, Placement
from tracker.records.names import first_script, in_script
from tracker.records.transit import first_alert_day, transits_query
from tracker.formats import short_day

# --- what only editors see --------------------------------------------------------


def _all_day(uid: str, day: date, summary: str, description: str, stamp: datetime, url: str) -> bytes:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", 0)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("last-modified", stamp.astimezone(timezone.utc))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event.to_ical()


def custody_expiry_event(measure: CustodyMeasure, base_url: str, domain: str | None = None) -> bytes:
    """The day a custody measure lapses unless a court extends it (or is due for review)."""
    person = measure.defendant
    name = first_script(person.name_latin, person.name_original)  # in the feed's language's script
    if measure.until:
        summary = _("Custody expires: %(name)s (%(measure)s)", name=name, measure=measure.kind.label)
    else:
        summary = _("Custody review due: %(name)s (%(measure)s)", name=name, measure=measure.kind.label)
    details = [summary, str(in_script(person.name_latin, person.name_original))]
    if measure.ordered_by:
        details.append(_("ordered by %(court)s", court=measure.ordered_by))
    if measure.note:
        details.append(measure.note)
    if person.internal_notes:
        details.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    return _all_day(
        f"custody-{measure.id}@{domain or ical.uid_domain(base_url)}",
        measure.ends_on,
        summary,
        "\n".join(details),
        measure.created_at,
        external_url("records.defendant", base_url=base_url, slug=person.slug),
    )


def appeal_deadline(decision: Decision, appeal_days: int) -> date:
    return decision.decided_on + timedelta(days=appeal_days)


def appeal_deadline_event(
    decision: Decision, appeal_days: int, base_url: str, domain: str | None = None
) -> bytes:
    """The last day to appeal a first-instance decision."""
    person = decision.defendant
    name = first_script(person.name_latin, person.name_original)
    summary = _("Appeal deadline: %(name)s", name=name)
    details = [
        summary,
        f"{short_day(decision.decided_on)}, {decision.court}: {decision.outcome.label}",
        _("%(days)d days from the decision", days=appeal_days),
    ]
    if person.internal_notes:
        details.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    return _all_day(
        f"appeal-{decision.id}@{domain or ical.uid_domain(base_url)}",
        appeal_deadline(decision, appeal_days),
        summary,
        "\n".join(details),
        decision.created_at,
        external_url("records.defendant", base_url=base_url, slug=person.slug),
    )


def transit_events(placement: Placement, alert_day: date, base_url: str, domain: str | None = None) -> list[bytes]:
    """A prisoner in transit: the day they were taken, and the day editors are first alerted.

    Both leave the feed once a destination is recorded (the placement is then no transit),
    so what is left in a lawyer's calendar is the prisoners still missing.
    """
    person = placement.defendant
    domain = domain or ical.uid_domain(base_url)
    name = first_script(person.name_latin, person.name_original)
    url = external_url("editing.record_transfer", base_url=base_url, defendant_id=person.id)
    details = [str(in_script(person.name_latin, person.name_original)),
               _("In transit since %(day)s, whereabouts unknown.", day=short_day(placement.since))]
    if placement.note:
        details.append(placement.note)
    if person.internal_notes:
        details.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    started = _("In transit: %(name)s, whereabouts unknown", name=name)
    alert = _("Still in transit: %(name)s, no destination recorded", name=name)
    return [
        _all_day(f"transit-{placement.id}@{domain}", placement.since, started, "\n".join([started, *details]),
                 person.updated_at, url),
        _all_day(f"transit-alert-{placement.id}@{domain}", alert_day, alert, "\n".join([alert, *details]),
                 person.updated_at, url),
    ]


# --- the feed and its address ----------------------------------------------------------


def user_by_feed_token(session: Session, token: str) -> User | None:
    """The active account owning `token`; None for a wrong, revoked or empty one."""
    if not token or len(token) > 64:
        return None
    user = session.scalar(sa.select(User).where(User.feed_token == token))
    if user is None or not user.active:
        return None
    return user


def regenerate_feed_token(user: User) -> str:
    """A new secret: the old URL stops working at once."""
    user.feed_token = new_feed_token()
    return user.feed_token


def revoke_feed_token(user: User) -> None:
    user.feed_token = None


def private_feed_url(user: User, lang: str | None = None) -> str | None:
    """The address of an editor's private feed, in `lang` (None: the site's default language)."""
    if not user.feed_token:
        return None
    return external_url("feeds.private_feed", token=user.feed_token, lang=lang)


def private_feed(session: Session, user: User, now: datetime, lang: str | None = None) -> bytes:
    """The editor's private feed in `lang` (None: the site's default language), with the same
    UIDs in every language."""
    settings = FeedSettings.from_app(lang)
    with force_locale(settings.locale):
        return _private_feed(session, user, now, settings)


def _private_feed(session: Session, user: User, now: datetime, settings: FeedSettings) -> bytes:
    appeal_days = current_app.config["APPEAL_DAYS"]
    window = window_clause(now, settings.past_days, settings.cancelled_days)
    hearing_query = limit_to_editable(sa.select(Hearing).where(window), Hearing, user)
    people = joinedload(Hearing.defendants)
    if user.case_ids is not None:  # can_edit below reads each co-defendant's cases
        people = people.selectinload(Defendant.cases)
    hearings = session.scalars(
        hearing_query.options(people, joinedload(Hearing.case)).order_by(Hearing.starts_at, Hearing.id)
    ).unique().all()
    # A joint hearing also lists co-defendants of other cases: only those the user may edit
    # get their notes (and, if hidden, their names) into this feed.
    editable = frozenset(d.id for hearing in hearings for d in hearing.defendants if can_edit(user, d))
    measures = session.scalars(limit_to_editable(
        sa.select(CustodyMeasure).join(Defendant).options(joinedload(CustodyMeasure.defendant)), Defendant, user
    )).all()
    decisions = session.scalars(limit_to_editable(
        sa.select(Decision).join(Defendant).options(joinedload(Decision.defendant)), Defendant, user
    )).all()

    earliest = (now - timedelta(days=settings.past_days)).date()
    extra: list[tuple[object, bytes]] = []  # (sort key, event)
    by_defendant: dict[int, list[CustodyMeasure]] = defaultdict(list)
    for measure in measures:
        by_defendant[measure.defendant_id].append(measure)
    decisions_of: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        decisions_of[decision.defendant_id].append(decision)
    for defendant_id, own in by_defendant.items():
        measure = measure_in_force_among(own, decisions_of[defendant_id])  # not one a sentence replaced
        if measure is None or measure.ends_on is None:
            continue
        if measure.ends_on >= earliest:
            extra.append((measure.ends_on, custody_expiry_event(measure, settings.base_url, settings.domain)))
    appealed = defaultdict(list)
    for decision in decisions:
        if decision.instance is not Instance.FIRST:
            appealed[decision.defendant_id].append(decision.decided_on)
    for decision in decisions:
        if decision.instance is not Instance.FIRST:
            continue
        if any(day >= decision.decided_on for day in appealed[decision.defendant_id]):
            continue  # already decided on appeal: the deadline is moot
        deadline = appeal_deadline(decision, appeal_days)
        if deadline >= earliest:
            extra.append((deadline, appeal_deadline_event(decision, appeal_days, settings.base_url, settings.domain)))
    transits = session.scalars(limit_to_editable(
        transits_query().options(contains_eager(Placement.defendant)), Defendant, user
    )).all()
    for placement in transits:
        alert_day = first_alert_day(placement.since)
        start, alert = transit_events(placement, alert_day, settings.base_url, settings.domain)
        extra += [(placement.since, start), (alert_day, alert)]
    extra.sort(key=lambda item: (item[0], item[1]))

    zones = calendars.zone_years((hearing.court.timezone, hearing.starts_at) for hearing in hearings)
    info = calendars.FeedInfo(
        name=_("Private hearings calendar of %(name)s", name=user.name or user.email),
        description=_(
            "Includes hidden defendants, internal notes, custody expiry and appeal deadlines. "
            "Do not share this address."
        ),
        url=external_url("feeds.private_page", base_url=settings.base_url),
        source="",
        refresh_minutes=settings.refresh_minutes,
    )
    events = [
        calendars.event_bytes(h, settings.base_url, ical.PRIVATE, domain=settings.domain, editable=editable)
        for h in hearings
    ]
    return calendars.assemble(info, zones, events + [text for _day, text in extra])


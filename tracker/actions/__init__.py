"""Solidarity actions: organisers submit them (no account), editors review them, supporters
find them by place and in calendars. See docs/actions.md.

Above records, editing and feeds (it uses the audit trail and the calendar assembly),
beside reminders. The records' pages show a defendant's or case's actions through the
optional partial `actions/_list.html`, fed by the template helper registered here.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tracker.actions import demo, listing, logic, models, views  # noqa: F401  (models: tables known to Alembic)
from tracker.actions.places import country_name, local_text
from tracker.actions.rendering import actions_html, calendar_links_html
from tracker.editing import history_labels
from tracker.extensions import db, utcnow
from tracker.links import external_url
from tracker.records.demo import add_to_demo

# How the audit trail names an action's fields and changes (the admins' feed, the review page).
ACTION_FIELDS = {
    "title": history_labels.Field(_l("What")),
    "description": history_labels.Field(_l("Details")),
    "organiser": history_labels.Field(_l("Organised by")),
    "city": history_labels.Field(_l("City")),
    "country": history_labels.Field(_l("Country")),
    "address": history_labels.Field(_l("Address or meeting point")),
    "timezone": history_labels.Field(_l("Time zone of the place")),
    "starts_at": history_labels.Field(_l("Starts"), history_labels.MOMENT),
    "ends_at": history_labels.Field(_l("Ends"), history_labels.MOMENT),
    "case_id": history_labels.Field(_l("Case"), history_labels.CASE),
    "defendants": history_labels.Field(_l("Defendants"), history_labels.DEFENDANTS),
    "contact": history_labels.Field(_l("Organiser's contact (private)")),
    "status": history_labels.Field(_l("Status")),
    "external_id": history_labels.Field(_l("Identifier in the group's spreadsheet")),  # set by an import
}
ACTION_CHANGES = {
    ("submit", "action"): _l("Action submitted by its organiser"),
    ("create", "action"): _l("Added the action"),  # an import: a backup, another instance's list
    ("update", "action"): _l("Edited the action"),
    ("approve", "action"): _l("Approved the action"),
    ("reject", "action"): _l("Rejected the action"),
    ("cancel", "action"): _l("Called off the action"),
}


def actions_of(feed_scope: tuple[str, Any] | None) -> list[listing.ListedAction]:
    """The upcoming public actions of the page's defendant or case, as the rows /actions lists
    (one query, whatever their number)."""
    kind, thing = feed_scope or ("all", None)
    if kind == "defendant" and thing is not None:
        return listing.of_defendant_listed(db.session, thing.id, utcnow())
    if kind == "case" and thing is not None:
        return listing.of_case_listed(db.session, thing.id, utcnow())
    return []


def action_feed_url(kind: str = "all", slug: str | None = None) -> str:
    """The absolute address of an actions calendar, on BASE_URL like every feed link."""
    if kind == "all":
        return external_url("actions.feed", kind="all")
    return external_url("actions.feed", kind=kind, slug=slug)


def pending_actions() -> int:
    return logic.pending_count(db.session, current_user) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    history_labels.FIELDS.setdefault("action", ACTION_FIELDS)
    for key, label in ACTION_CHANGES.items():
        history_labels.ACTIONS.setdefault(key, label)
    history_labels.ADDING.add("submit")
    add_to_demo(app, demo.load_demo_actions)
    app.jinja_env.globals.update(actions_of=actions_of, actions_html=actions_html, pending_actions=pending_actions, action_feed_url=action_feed_url,
                                 calendar_links=calendar_links_html,
                                 actions_page_shown=logic.PAGE_SHOWN,
                                 action_time=lambda action: local_text(action.starts_at, action.ends_at, action.tz))
    app.jinja_env.filters["country_name"] = country_name

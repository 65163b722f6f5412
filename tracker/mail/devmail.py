"""/dev/mail: the emails `make run` caught, so a newcomer sees what volunteers receive.

Registered only when DEV_MAIL_DIR is set (tracker/dev.py sets it); production never has it.
"""
from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from tracker.access import public

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")
NAME = re.compile(r"^[\w.-]+\.eml$")


def _folder() -> Path:
    return Path(current_app.config["DEV_MAIL_DIR"])


def _read(path: Path):  # noqa: ANN202
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def _sent_at(message) -> datetime | None:  # noqa: ANN001
    """The Date header as an aware moment, for the page to format in the reader's language."""
    header = message["Date"]
    moment = getattr(header, "datetime", None)
    return moment if moment is not None and moment.tzinfo is not None else None


@bp.get("/")
@public
def inbox():
    files = sorted(_folder().glob("*.eml"), reverse=True)[:200] if _folder().is_dir() else []
    messages = []
    for path in files:
        message = _read(path)
        messages.append({"name": path.name, "to": message["To"], "subject": message["Subject"],
                         "date": _sent_at(message)})
    return render_template("reminders/dev_mail.html", messages=messages, folder=str(_folder()))


@bp.get("/<name>")
@public
def show(name: str):
    if not NAME.match(name):
        abort(404)
    path = _folder() / name
    if not path.is_file():
        abort(404)
    message = _read(path)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    attachments = [
        {"filename": part.get_filename(), "type": part.get_content_type(), "content": part.get_content()}
        for part in message.iter_attachments()
    ]
    headers = [(k, v) for k, v in message.items()]
    return render_template(
        "reminders/dev_mail_message.html", name=name, headers=headers,
        text=text.get_content() if text else "", html=html.get_content() if html else "",
        attachments=attachments,
    )

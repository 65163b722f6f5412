"""`flask --app wsgi publish-feeds`: publish every feed now, with progress."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.extensions import utcnow
from tracker.feeds.publish import publish_feeds


@click.command("publish-feeds")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@with_appcontext
def publish_feeds_command(quiet: bool) -> None:
    """Write every public calendar feed to FEEDS_DIR (only the changed ones)."""
    bars: dict[str, object] = {}
    labels = {"render": "Serializing changed events", "write": "Checking and writing feeds"}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = click.progressbar(length=total, label=labels.get(stage, stage))
            bar.__enter__()
            bar.done = 0
        bar.update(done - bar.done)
        bar.done = done
        if done >= total:
            bar.__exit__(None, None, None)

    report = publish_feeds(utcnow(), progress=progress)
    click.echo(
        f"{report.feeds} feeds in {current_app.config['FEEDS_DIR']}: {len(report.written)} written, "
        f"{report.unchanged} unchanged, {len(report.removed)} removed; "
        f"{report.events_rendered} events serialized in {report.seconds:.2f}s"
    )

"""Every job runs in one frame and reads the clock it is given (`--now`), the feeds' job too."""
from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from scheduler.jobs import JOBS
from tracker.extensions import db


def test_every_job_takes_the_clock_from_now(now, make_hearing, scheduler_process, tmp_path):
    hearing = make_hearing(starts_at=now + timedelta(days=3))
    db.session.commit()
    uid = f"hearing-{hearing.id}@"
    all_ics = tmp_path / "feeds" / "all.ics"
    for moment, listed in ((now, True), (now + timedelta(days=200), False)):  # 200 days: past FEED_PAST_DAYS
        child = scheduler_process("--once", "--job", "publish_feeds", "--now", moment.isoformat())
        assert child.wait(60) == 0, child.log
        uids = [str(event["UID"]) for event in Calendar.from_ical(all_ics.read_bytes()).walk("VEVENT")]
        assert any(u.startswith(uid) for u in uids) is listed, (moment, uids)


def test_the_intervals_come_from_the_configuration(app):
    seconds = {job.name: job.seconds for job in JOBS}
    assert seconds == {
        "publish_feeds": app.config["PUBLISH_FEEDS_EVERY_SECONDS"], "plan-mail": app.config["PLAN_MAIL_EVERY_SECONDS"],
        "send-mail": app.config["SEND_MAIL_EVERY_SECONDS"], "purge-signups": app.config["PURGE_SIGNUPS_EVERY_SECONDS"],
        "purge-import-uploads": app.config["PURGE_IMPORT_UPLOADS_EVERY_SECONDS"],
    }
    assert (seconds["plan-mail"], seconds["send-mail"], seconds["publish_feeds"]) == (30, 15, 60)

"""`python -m scheduler`: run every job of scheduler.jobs.JOBS on its interval.

Only the leader works (see scheduler/leader.py); another instance waits as a hot
standby. SIGTERM or Ctrl-C: no new job starts, a running send finishes the message
in hand, then the process exits.

    python -m scheduler                 run for ever (production, `make run`)
    python -m scheduler --once          run each job once and exit (cron, tests)
    python -m scheduler --once --job send-mail --now 2026-03-02T09:00:00+00:00
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler import runtime
from scheduler.frame import job
from scheduler.jobs import JOBS, Job
from scheduler.leader import NoLock, leader_lock_for
from tracker import create_app
from tracker.mail import arriving
from tracker.mail.claims import release_abandoned_claims

log = logging.getLogger("scheduler")
LOCK_CHECK_SECONDS = 10


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="run each job once, then exit")
    parser.add_argument("--job", action="append", default=[], help="only this job (repeatable)")
    parser.add_argument("--now", type=datetime.fromisoformat,
                        help="with --once: the clock every job reads (ISO 8601, aware)")
    parser.add_argument("--no-leader-lock", action="store_true",
                        help="skip the leader lock (tests of concurrent senders only; never in production)")
    args = parser.parse_args(argv)
    if args.now is not None and (not args.once or args.now.tzinfo is None):
        parser.error("--now needs --once and a time zone (e.g. +00:00)")
    return args


def _selected(names: list[str]) -> list[Job]:
    jobs = [each for each in JOBS if not names or each.name in names]
    unknown = set(names) - {each.name for each in JOBS}
    if unknown:
        raise SystemExit(f"unknown job(s): {', '.join(sorted(unknown))}; known: {', '.join(j.name for j in JOBS)}")
    return jobs


def _install_signal_handlers() -> None:
    def stop(signum, frame):  # noqa: ANN001
        log.info("received %s: finishing the work in hand, then stopping", signal.Signals(signum).name)
        runtime.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    app = create_app()
    # "Running job ... executed successfully" every 15 s drowns what the jobs themselves log.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    jobs = _selected(args.job)
    _install_signal_handlers()
    lock = NoLock() if args.no_leader_lock else leader_lock_for(app.config["SQLALCHEMY_DATABASE_URI"])
    if not lock.acquire(runtime.stopping):
        log.info("stopped before becoming the leader")
        return 0
    runtime.lead_with(lock.still_held)
    try:
        if not args.no_leader_lock:
            _recover(app, args.now)
        if args.once:
            for selected in jobs:
                if runtime.stopping.is_set():
                    break
                log.info("running %s once", selected.name)
                selected.run(app, args.now)
            return 1 if runtime.lock_lost.is_set() else 0
        return _run_forever(app, jobs)
    finally:
        lock.release()


def _recover(app, now: datetime | None) -> None:  # noqa: ANN001
    """We lead: what a sender that stopped had claimed is due again.

    Not every claim: the old leader may still be alive and sending (its lock connection
    was cut, say); its claims stay its own until it gives them back or their lease ends.
    """
    job(release_abandoned_claims)(app, now)


SEND_JOB = "send-mail"


def _send_now(scheduler: BackgroundScheduler) -> None:
    """The planning job committed the first chunk of a batch: send now, not at the next interval.

    A send job already running waits for the chunks itself (tracker.mail.arriving).
    """
    if runtime.sending.is_set() or runtime.stopping.is_set():
        return
    try:
        scheduler.modify_job(SEND_JOB, next_run_time=datetime.now(timezone.utc))
    except Exception:  # noqa: BLE001  the planning must not fail for it: the send job still runs on its interval
        log.exception("could not start %s early", SEND_JOB)


def _run_forever(app, jobs: list[Job]) -> int:  # noqa: ANN001
    scheduler = BackgroundScheduler(timezone="UTC")
    for each in jobs:
        scheduler.add_job(
            each.run, "interval", seconds=each.seconds, args=[app], id=each.name,
            max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc),
            misfire_grace_time=each.seconds,
        )
        log.info("job %s every %ss", each.name, each.seconds)
    if any(each.name == SEND_JOB for each in jobs):
        arriving.on_first_chunk.append(lambda: _send_now(scheduler))
    scheduler.start()
    log.info("scheduler started with %d jobs", len(jobs))
    while not runtime.stopping.wait(LOCK_CHECK_SECONDS):
        runtime.still_leading()  # the sender also asks before every claim
    log.info("stopping: waiting for running jobs to finish")
    scheduler.shutdown(wait=True)
    log.info("scheduler stopped")
    return 1 if runtime.lock_lost.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())

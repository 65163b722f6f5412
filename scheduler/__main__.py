"""`python -m scheduler`: run every job of scheduler.jobs.JOBS on its interval."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler.jobs import JOBS
from tracker import create_app

log = logging.getLogger("scheduler")


def main() -> None:
    app = create_app()
    scheduler = BlockingScheduler(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(
            job.run, "interval", seconds=job.seconds, args=[app], id=job.name,
            max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc),
        )
        log.info("job %s every %ss", job.name, job.seconds)
    log.info("scheduler started with %d jobs", len(JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


if __name__ == "__main__":
    main()

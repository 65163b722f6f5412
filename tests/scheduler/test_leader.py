"""One scheduler leads, another waits as a hot standby and takes over; SIGTERM stops cleanly."""
from __future__ import annotations

import signal

import pytest

from tests.scheduler.conftest import wait_for
from scheduler.jobs import JOBS
from scheduler.leader import FileLeaderLock, PostgresLeaderLock, leader_lock_for

pytestmark = pytest.mark.slow


def test_the_lock_fits_the_database(database_uri, is_postgres):
    lock = leader_lock_for(database_uri)
    assert isinstance(lock, PostgresLeaderLock if is_postgres else FileLeaderLock)
    assert lock.try_acquire() and lock.still_held()
    other = leader_lock_for(database_uri)
    assert not other.try_acquire()  # a second instance cannot lead at the same time
    lock.release()
    assert other.try_acquire()
    other.release()


def test_a_standby_takes_over_when_the_leader_stops(scheduler_process):
    first = scheduler_process("--job", "plan-mail")
    wait_for(lambda: "leader lock taken" in first.log, what="the first scheduler to lead")
    second = scheduler_process("--job", "plan-mail")
    wait_for(lambda: "waiting as a hot standby" in second.log, what="the second to wait")
    assert "leader lock taken" not in second.log

    first.popen.send_signal(signal.SIGTERM)
    assert first.wait(30) == 0, first.log
    assert "scheduler stopped" in first.log
    wait_for(lambda: "leader lock taken" in second.log, what="the standby to take over")
    wait_for(lambda: "scheduler started with 1 jobs" in second.log, what="the standby to start its jobs")


def test_a_killed_leader_is_replaced(scheduler_process):
    first = scheduler_process("--job", "plan-mail")
    wait_for(lambda: "leader lock taken" in first.log, what="the first scheduler to lead")
    second = scheduler_process("--job", "plan-mail")
    wait_for(lambda: "waiting as a hot standby" in second.log, what="the second to wait")
    first.popen.send_signal(signal.SIGKILL)
    first.wait(10)
    wait_for(lambda: "leader lock taken" in second.log, what="the standby to take over")


def test_the_reminder_jobs_are_registered():
    names = {job.name: job.seconds for job in JOBS}
    assert names["plan-mail"] <= 60 and names["send-mail"] <= 60  # change notices within a minute
    assert "purge-signups" in names

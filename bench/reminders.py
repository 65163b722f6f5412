"""Reminder dispatch, measured: `python -m bench.reminders` (or `make bench`).

Starts a local aiosmtpd server in its own process (so it does not share our GIL),
seeds 10,000 due reminder deliveries in a scratch database (SQLite in a temp dir,
or BENCH_DATABASE_URL) through the real `enqueue_due`, then in one run measures:
- the baseline: plain `smtplib` sending the very same message bytes over one
  connection (the raw work: no database, no framework), once before and once after
  the dispatch (the mean is the baseline: the server warms up as it goes);
- `send_pending`: the real sender, claiming, sending and committing each message
  over one connection per batch;
- end to end, from "due" to "accepted by the relay", as the scheduler does it: the outbox
  emptied, then `enqueue_due` (compose and record, half the volunteers reading Russian,
  half English) committing chunks of `--chunk` (500, as plan-mail), and `send_pending` on
  another thread started by the first chunk (as send-mail), until the last "250"; beside
  it, `enqueue_due` then `send_pending` in series (the two timings above added).
Goals: end to end at most 1.25x the plain-smtplib time (issue 12); dispatch alone at
least half the plain rate (issue 5). Prints a table, then one JSON line with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
WARM_UP = 200  # messages sent before timing anything: a cold server is slower


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the SMTP server process -------------------------------------------------------------


def serve(port: int) -> None:
    """A counting aiosmtpd server; prints how many messages it accepted when stopped."""
    import threading

    from aiosmtpd.controller import Controller

    class Counter:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            Counter.received += len(envelope.rcpt_tos)
            return "250 Message accepted"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    print(Counter.received, flush=True)


class SMTPServerProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.reminders", "--serve", str(self.port)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> int:
        if self.process.poll() is not None:
            return -1
        self.process.send_signal(signal.SIGTERM)
        out, _err = self.process.communicate(timeout=30)
        return int(out.strip().splitlines()[-1])


# --- seeding -------------------------------------------------------------------------------


def make_config(database_url: str, smtp_port: int):
    from config import Config, database_url as normalise

    class BenchConfig(Config):
        SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)  # no sessions are kept
        SQLALCHEMY_DATABASE_URI = normalise(database_url)
        BASE_URL = "https://tracker.example.org"
        SMTP_HOST = "127.0.0.1"
        SMTP_PORT = smtp_port
        SMTP_STARTTLS = False
        SMTP_USER = ""
        SEND_BATCH_LIMIT = 10**9

    return BenchConfig


def seed(db, deliveries: int) -> float:
    """`deliveries` confirmed volunteers following one hearing that is due; returns enqueue seconds."""
    import sqlalchemy as sa

    from tracker.records.models import Court, Defendant, Hearing, SiteSetting
    from tracker.reminders.due import enqueue_due
    from tracker.reminders.models import Scope, Subscription, new_token

    court = Court(name="Moscow City Court", address="Bogorodsky Val, 8, Moscow", timezone="Europe/Moscow")
    person = Defendant(slug="luzyanin", name_latin="Maksim Luzyanin", name_original="Максим Лузянин")
    db.session.add_all([court, person, SiteSetting(key="hearing_notes", value="Arrive early; bring ID.")])
    db.session.flush()
    db.session.add(Hearing(court=court, starts_at=NOW + timedelta(hours=20), defendants=[person], courtroom="635"))
    db.session.execute(sa.insert(Subscription), [
        {"email": f"volunteer{i}@example.org", "scope": Scope.ALL, "scope_key": "all", "lead_minutes": [1440, 180],
         "digest": False, "token": new_token(), "created_at": NOW - timedelta(days=30),
         "confirmed_at": NOW - timedelta(days=30), "language": ("ru", "en")[i % 2]}
        for i in range(deliveries)
    ])
    db.session.commit()
    started = time.perf_counter()
    written = enqueue_due(db.session, NOW)
    db.session.commit()
    assert written == deliveries, (written, deliveries)
    return time.perf_counter() - started


# --- the two senders -------------------------------------------------------------------------


def plain_smtplib(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="tracker.example.org")
    for sender, recipient, raw in messages:
        smtp.sendmail(sender, [recipient], raw)
    smtp.quit()
    return time.perf_counter() - started


def dispatch(db) -> tuple[float, int]:
    from tracker.mail.sending import send_pending

    started = time.perf_counter()
    report = send_pending(db.session, NOW)
    return time.perf_counter() - started, report.sent


def overlapped(app, db, chunk: int) -> tuple[float, int, int]:
    """From "due" to "in the relay" as the scheduler does it: `enqueue_due` commits chunks and
    the send job, started by the first chunk, sends while the rest is composed.
    Returns (seconds, messages written, messages sent)."""
    import threading

    from tracker.mail import arriving
    from tracker.mail.sending import send_pending
    from tracker.reminders.due import enqueue_due

    sent: list[int] = []

    def send() -> None:
        with app.app_context():
            sent.append(send_pending(db.session, NOW).sent)
            db.session.remove()

    sender = threading.Thread(target=send)
    arriving.on_first_chunk.append(sender.start)
    try:
        started = time.perf_counter()
        written = enqueue_due(db.session, NOW, commit_every=chunk)
        db.session.commit()
        sender.join()
        seconds = time.perf_counter() - started
    finally:
        arriving.on_first_chunk.remove(sender.start)
    return seconds, written, sent[0] if sent else 0


def forget_the_outbox(db) -> None:
    """The reminders recorded and sent so far, gone: the next `enqueue_due` finds them all due again."""
    import sqlalchemy as sa

    from tracker.mail.models import OutboxMessage
    from tracker.reminders.models import ReminderDelivery

    db.session.execute(sa.delete(ReminderDelivery))
    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500, help="messages per committed chunk (overlapped run)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    import logging

    from email.utils import parseaddr

    import sqlalchemy as sa

    from tracker import create_app
    from tracker.extensions import db
    from tracker.mail.models import OutboxMessage, OutboxStatus

    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    server = SMTPServerProcess()
    try:
        app = create_app(make_config(database_url, server.port))
        logging.getLogger().setLevel(logging.WARNING)
        with app.app_context():
            db.drop_all()
            db.create_all()
            print(f"seeding {args.deliveries:,} due deliveries in {db.engine.url.get_backend_name()}...", flush=True)
            enqueue_seconds = seed(db, args.deliveries)
            sender = parseaddr(app.config["MAIL_FROM"])[1]
            messages = [(sender, r, raw) for r, raw in db.session.execute(
                sa.select(OutboxMessage.recipient, OutboxMessage.raw).order_by(OutboxMessage.id))]
            db.session.rollback()
            size = sum(len(raw) for _s, _r, raw in messages) / len(messages)

            print("warming up the server (not timed)...", flush=True)
            plain_smtplib(server.port, messages[:WARM_UP])
            print("plain smtplib over one connection...", flush=True)
            plain_before = plain_smtplib(server.port, messages)
            print("send_pending (claim, send, commit each)...", flush=True)
            dispatch_seconds, sent = dispatch(db)
            sent_rows = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
            db.session.rollback()
            forget_the_outbox(db)
            print("end to end, overlapped: enqueue_due in chunks, send_pending from the first one...", flush=True)
            overlapped_seconds, overlapped_written, overlapped_sent = overlapped(app, db, args.chunk)
            print("plain smtplib again (the server is as warm as for send_pending)...", flush=True)
            plain_after = plain_smtplib(server.port, messages)
            plain_seconds = (plain_before + plain_after) / 2
            overlapped_rows = db.session.scalar(
                sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
            db.session.remove()
            db.engine.dispose()
    finally:
        received = server.stop()
    assert sent == sent_rows == args.deliveries, (sent, sent_rows)
    assert overlapped_written == overlapped_sent == overlapped_rows == args.deliveries, (
        overlapped_written, overlapped_sent, overlapped_rows)
    assert received == 4 * args.deliveries + min(WARM_UP, args.deliveries), received  # every copy arrived
    n = args.deliveries
    plain_rate, dispatch_rate = n / plain_seconds, n / dispatch_seconds
    ratio = dispatch_rate / plain_rate
    in_series = enqueue_seconds + dispatch_seconds
    end_to_end = overlapped_seconds
    end_ratio = end_to_end / plain_seconds
    rows = [
        ("enqueue_due (compose + record)", enqueue_seconds, n / enqueue_seconds),
        ("plain smtplib, before", plain_before, n / plain_before),
        ("plain smtplib, after", plain_after, n / plain_after),
        ("plain smtplib, mean (baseline)", plain_seconds, plain_rate),
        ("send_pending, one connection", dispatch_seconds, dispatch_rate),
        ("enqueue, then send (in series)", in_series, n / in_series),
        ("end to end, overlapped", end_to_end, n / end_to_end),
    ]
    print()
    print(f"{'step':<34} {'seconds':>9} {'msgs/s':>9}")
    for name, seconds, rate in rows:
        print(f"{name:<34} {seconds:>9.2f} {rate:>9.0f}")
    print(f"end to end (overlapped) / plain time: {end_ratio:.2f} (in series: {in_series / plain_seconds:.2f}; goal <= 1.25: {'met' if end_ratio <= 1.25 else 'NOT met'}); "
          f"dispatch / plain rate: {ratio:.2f} (goal >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'}); "
          f"{n:,} messages of {size / 1024:.1f} KiB on average")
    print(json.dumps({
        "bench": "reminders", "database": database_url.split(":", 1)[0], "deliveries": n,
        "message_bytes_avg": round(size), "enqueue_seconds": round(enqueue_seconds, 3),
        "plain_smtplib_seconds": round(plain_seconds, 3), "plain_smtplib_runs_seconds": [round(plain_before, 3), round(plain_after, 3)], "plain_smtplib_per_second": round(plain_rate, 1),
        "dispatch_seconds": round(dispatch_seconds, 3), "dispatch_per_second": round(dispatch_rate, 1),
        "dispatch_to_plain_ratio": round(ratio, 3), "goal_ratio": 0.5, "goal_met": ratio >= 0.5,
        "in_series_seconds": round(in_series, 3), "in_series_to_plain_time": round(in_series / plain_seconds, 3),
        "commit_chunk": args.chunk,
        "end_to_end_seconds": round(end_to_end, 3), "end_to_end_to_plain_time": round(end_ratio, 3),
        "end_to_end_goal": 1.25, "end_to_end_goal_met": end_ratio <= 1.25,
    }))


if __name__ == "__main__":
    main()

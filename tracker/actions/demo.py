"""Demo solidarity actions: approved ones in several countries, one called off, one pending.

Every organiser, group and address is fictional (example.org contacts); the dates follow
the day the demo is loaded. Called by records' demo loader (`records.demo.add_to_demo`).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.actions.models import Action, ActionStatus
from tracker.records.models import Case, Defendant

UTC = ZoneInfo("UTC")


def _at(day: date, hour: int, zone: str, minutes: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minutes), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def load_demo_actions(session: Session, today: date) -> None:
    case = session.scalar(sa.select(Case).where(Case.slug == "may-6th-affair"))
    people = {d.slug: d for d in session.scalars(sa.select(Defendant).where(Defendant.slug.in_(
        ["maksim-luzyanin", "mikhail-kosenko", "ivan-primerov", "anna-obraztsova"])))}
    luzyanin, kosenko = people.get("maksim-luzyanin"), people.get("mikhail-kosenko")
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    rows = [
        dict(title="Letter-writing evening for the May 6th prisoners (demo)", city="Berlin", country="DE",
             timezone="Europe/Berlin", address="Demo-Café, Beispielstraße 6", organiser="Solidarity Circle Berlin (demo)",
             description="Postcards, envelopes and addresses provided. Write in Russian or English.",
             starts=_at(saturday, 18, "Europe/Berlin"), hours=3, case=case, defendants=[]),
        dict(title="Vigil outside the Russian consulate (demo)", city="Tbilisi", country="GE", timezone="Asia/Tbilisi",
             address="Demo Avenue 12", organiser="Free Them Tbilisi (demo)", description="Bring candles.",
             starts=_at(today + timedelta(days=4), 19, "Asia/Tbilisi"), hours=2, case=case,
             defendants=[d for d in (luzyanin,) if d]),
        dict(title="Film screening and discussion (demo)", city="Vilnius", country="LT", timezone="Europe/Vilnius",
             address="Example Cinema, Pavyzdžio g. 3", organiser="Demo Film Club", description="",
             starts=_at(today + timedelta(days=10), 17, "Europe/Vilnius", 30), hours=3, case=None,
             defendants=[d for d in (kosenko,) if d]),
        dict(title="Picket for political prisoners (demo)", city="Yerevan", country="AM", timezone="Asia/Yerevan",
             address="Example Square", organiser="", description="Fictional picket for the demo.",
             starts=_at(today + timedelta(days=12), 12, "Asia/Yerevan"), hours=1, case=case, defendants=[]),
        dict(title="Concert for the prisoners' families (demo)", city="Berlin", country="DE",
             timezone="Europe/Berlin", address="Demo Hall, Musterweg 1", organiser="Solidarity Circle Berlin (demo)",
             description="A fictional concert; the hall turned out not to be available.",
             starts=_at(today + timedelta(days=15), 20, "Europe/Berlin"), hours=3, case=case, defendants=[],
             status=ActionStatus.CANCELLED),
        dict(title="Letters to Kosenko (demo, awaiting review)", city="Almaty", country="KZ", timezone="Asia/Almaty",
             address="Demo Library, Example Street 5", organiser="Demo Readers' Group",
             description="Submitted by a fictional organiser: an editor has yet to review it.",
             starts=_at(today + timedelta(days=8), 18, "Asia/Almaty"), hours=2, case=None,
             defendants=[d for d in (kosenko,) if d], status=ActionStatus.PENDING),
    ]
    for number, row in enumerate(rows, start=1):
        session.add(Action(
            title=row["title"], description=row["description"], organiser=row["organiser"], city=row["city"],
            country=row["country"], address=row["address"], timezone=row["timezone"], starts_at=row["starts"],
            ends_at=row["starts"] + timedelta(hours=row["hours"]), case=row["case"], defendants=row["defendants"],
            status=row.get("status", ActionStatus.APPROVED), contact=f"organiser{number}@example.org (demo)",
            is_demo=True,
        ))

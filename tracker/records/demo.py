"""Demo data modelled on the "May 6th affair" (Bolotnaya Square case), December 2012.

Two defendants follow the news report in shared/seed (International Viewpoint,
19 December 2012): Maksim Luzyanin, sentenced to 4 years 6 months, and Mikhail
Kosenko, separated from the others and sent to compulsory psychiatric treatment.
Everyone else is fictional, says so in their biography, and has upcoming
hearings relative to the day the demo is loaded, so every page has something to show.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from tracker.extensions import db, utcnow
from tracker.records.enums import DefendantStatus, HearingKind, HearingStatus, LettersStatus, MeasureKind, Outcome
from tracker.records.models import Case, Court, CustodyMeasure, Decision, Defendant, Hearing, Placement, SiteSetting

log = logging.getLogger(__name__)

# Features above records add their own demo rows after the records' (solidarity actions):
# each is called with the session and `today` once the records are flushed.
ARTICLE = "https://internationalviewpoint.org/spip.php?article2834"
ARTICLE_DAY = date(2012, 12, 19)
MOSCOW = "Europe/Moscow"

FICTIONAL = [
    # latin, original, slug, born (month, day, year)
    ("Ivan Primerov", "Иван Примеров", "ivan-primerov", (3, 14, 1988)),
    ("Anna Obraztsova", "Анна Образцова", "anna-obraztsova", (7, 2, 1991)),
    ("Pyotr Testov", "Пётр Тестов", "pyotr-testov", (11, 30, 1979)),
    ("Olga Demova", "Ольга Демова", "olga-demova", (1, 21, 1995)),
    ("Sergei Vymyslov", "Сергей Вымыслов", "sergei-vymyslov", (5, 9, 1983)),
    ("Nikolai Uslovny", "Николай Условный", "nikolai-uslovny", (9, 17, 1990)),
    ("Elena Shablonova", "Елена Шаблонова", "elena-shablonova", (12, 5, 1986)),
    ("Maria Maketova", "Мария Макетова", "maria-maketova", (4, 27, 1993)),
    ("Andrei Chernovikov", "Андрей Черновиков", "andrei-chernovikov", (8, 12, 1975)),
    ("Yulia Proektova", "Юлия Проектова", "yulia-proektova", (6, 1, 1998)),
    ("Timur Obraztsov", "Тимур Образцов", "timur-obraztsov", (2, 18, 1989)),
]


def at(day: date, hour: int, minute: int = 0, zone: str = MOSCOW) -> datetime:
    """A wall-clock time in a court's zone, as the aware datetime stored (in UTC)."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


def workday(day: date) -> date:
    """Courts sit on weekdays: move a Saturday or Sunday to the Monday after."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def extension_chain(
    defendant: Defendant, kind: MeasureKind, start: date, untils: list[date], court: str
) -> CustodyMeasure:
    """The first measure and each extension of it, each continuing the previous one."""
    previous = None
    begin = start
    for until in untils:
        measure = CustodyMeasure(
            defendant=defendant, kind=kind, starts_on=begin, until=until, ordered_by=court, extends=previous
        )
        db.session.add(measure)
        previous = measure
        begin = until
    return previous


def load_demo(session: Session, today: date) -> None:
    """Insert the demo (the caller commits). Dates of the fictional part are relative to `today`."""
    # Names and addresses in both scripts: the original is what people type into a map in Moscow.
    mosgorsud = Court(name="Moscow City Court", name_original="Мосгорсуд", address="Bogorodsky Val, 8, Moscow",
                      address_original="Богородский Вал, 8, Москва", timezone=MOSCOW)
    zamoskvoretsky = Court(
        name="Zamoskvoretsky District Court of Moscow", name_original="Замоскворецкий районный суд г. Москвы",
        address="Tatarskaya ulitsa, 1, Moscow", address_original="ул. Татарская, 1, Москва", timezone=MOSCOW
    )
    ural = Court(
        name="Demo Regional Court (fictional)", name_original="Демонстрационный областной суд (вымышленный)",
        address="1 Example Street, Yekaterinburg", address_original="ул. Примерная, 1, Екатеринбург",
        timezone="Asia/Yekaterinburg",
    )
    session.add_all([mosgorsud, zamoskvoretsky, ural])
    session.add(
        SiteSetting(
            key="hearing_notes",
            value="Arrive 30 minutes early: the queue at the security check is long. "
            "Bring your passport or another ID. Phones may have to stay switched off in the courtroom.",
        )
    )

    bolotnaya = Case(
        slug="may-6th-affair",
        title="May 6th affair",
        title_original="Дело 6 мая",
        case_number="DEMO-0001",
        description=(
            "Criminal case opened after the rally on Bolotnaya Square in Moscow on 6 May 2012, "
            "on the eve of the presidential inauguration. The case is directed not against individual "
            "people or groups but against the whole protest movement.\n\n"
            "Demo data: Maksim Luzyanin and Mikhail Kosenko follow the December 2012 report; "
            "the other defendants, their dates and hearings are fictional."
        ),
        charges="Art. 212 (mass riots), art. 318 (violence against a representative of the authorities) "
        "of the Criminal Code of the Russian Federation",
        is_demo=True,
    )
    leaflets = Case(
        slug="demo-leaflets-case",
        title="Leaflets case (fictional)",
        title_original="Дело о листовках (вымышленное)",
        case_number="DEMO-0002",
        description="A fictional second case, so that filters have something to filter.",
        charges="Art. 280 (public calls to extremist activity)",
        is_demo=True,
    )
    session.add_all([bolotnaya, leaflets])

    luzyanin = Defendant(
        slug="maksim-luzyanin",
        name_latin="Maksim Luzyanin",
        name_original="Максим Лузянин",
        bio="The first of those arrested over the May 6th affair to be sentenced. "
        "International Viewpoint reported in December 2012 that he had been sentenced to prison; "
        "he was sentenced to 4 years 6 months.",
        charges="Art. 212 part 2 (participation in mass riots)\nArt. 318 part 1 (violence against a police officer)",
        arrested_on=date(2012, 5, 27),
        status=DefendantStatus.IMPRISONED,
        letters_address="Demo address for letters: FKU IK-0 (fictional), 000000 Example region",
        letters_address_original="Демо-адрес для писем: ФКУ ИК-0 (вымышленная), 000000, Примерная область",
        letters_status=LettersStatus.REACH,
        cases=[bolotnaya],
        lawyer_contacts="Demo lawyer: +7 000 000-00-00",
        internal_notes="Demo internal note: never shown publicly.",
    )
    extension_chain(
        luzyanin, MeasureKind.PRE_TRIAL_DETENTION, date(2012, 5, 27),
        [date(2012, 7, 27), date(2012, 11, 27)], "Basmanny District Court of Moscow",
    )
    session.add(
        Decision(
            defendant=luzyanin, case=bolotnaya, decided_on=date(2012, 11, 24), court="Moscow City Court",
            outcome=Outcome.IMPRISONMENT, term_years=4, term_months=6, regime="general regime colony",
            credited_days=(date(2012, 11, 24) - date(2012, 5, 27)).days,
            source_url=ARTICLE, source_checked_on=ARTICLE_DAY,
        )
    )
    session.add(Placement(defendant=luzyanin, facility="SIZO-5, Moscow (demo)", facility_original="СИЗО-5, Москва (демо)",
                          since=date(2012, 5, 28)))
    session.add(Placement(defendant=luzyanin, facility="IK-0 (fictional colony), Example region",
                          facility_original="ИК-0 (вымышленная колония), Примерная область",
                          since=date(2013, 2, 15), note="Transferred to serve the sentence (demo date)."))

    kosenko = Defendant(
        slug="mikhail-kosenko",
        name_latin="Mikhail Kosenko",
        name_original="Михаил Косенко",
        bio="Separated from the other defendants of the May 6th affair. In December 2012 International "
        "Viewpoint reported that the authorities planned to send him to involuntary treatment in a "
        "prison-like psychiatric hospital; the court ordered compulsory psychiatric treatment.",
        charges="Art. 212 part 2 (participation in mass riots)\nArt. 318 part 1 (violence against a police officer)",
        arrested_on=date(2012, 6, 8),
        status=DefendantStatus.COMPULSORY_TREATMENT,
        letters_address="Demo address for letters: psychiatric hospital (fictional), 000000 Moscow",
        letters_address_original="Демо-адрес для писем: психиатрическая больница (вымышленная), 000000, Москва",
        letters_status=LettersStatus.UNKNOWN,
        cases=[bolotnaya],
        lawyer_contacts="Demo lawyer: kosenko-lawyer@example.org",
        internal_notes="Demo internal note: family prefers calls after 18:00.",
    )
    detention = extension_chain(
        kosenko, MeasureKind.PRE_TRIAL_DETENTION, date(2012, 6, 8),
        [date(2012, 8, 6), date(2012, 11, 6), date(2012, 12, 6), date(2013, 2, 6), date(2013, 3, 6)],
        "Basmanny District Court of Moscow",
    )
    detention.source_url, detention.source_checked_on = ARTICLE, ARTICLE_DAY
    session.add(
        Decision(
            defendant=kosenko, case=bolotnaya, decided_on=date(2013, 10, 8),
            court="Zamoskvoretsky District Court of Moscow", outcome=Outcome.COMPULSORY_TREATMENT,
            regime="psychiatric hospital of general type", note="Demo record of the decision.",
        )
    )
    session.add(
        CustodyMeasure(
            defendant=kosenko, kind=MeasureKind.COMPULSORY_TREATMENT, starts_on=date(2013, 10, 8),
            ordered_by="Zamoskvoretsky District Court of Moscow", extends=detention,
            next_review_on=today + timedelta(days=45), note="Reviewed every six months (demo date).",
        )
    )
    session.add(Placement(defendant=kosenko, facility="Psychiatric hospital (fictional), Moscow",
                          facility_original="Психиатрическая больница (вымышленная), Москва",
                          since=date(2013, 10, 8)))

    people = []
    for index, (latin, original, slug, (month, day, year)) in enumerate(FICTIONAL):
        person = Defendant(
            slug=slug,
            name_latin=latin,
            name_original=original,
            bio=f"Fictional defendant {index + 1} of the demo: this person does not exist.",
            charges="Art. 212 part 2 (participation in mass riots)",
            birth_date=date(year, month, day),
            arrested_on=today - timedelta(days=400 - index * 7),
            letters_address=f"Demo address for letters: {latin}, SIZO-{index + 1} (fictional), 000000 Moscow",
            letters_address_original=f"Демо-адрес для писем: {original}, СИЗО-{index + 1} (вымышленный), "
                                     "000000, Москва",
            letters_status=LettersStatus.REACH if index % 3 else LettersStatus.BLOCKED,
            cases=[leaflets] if index >= 9 else [bolotnaya],
            lawyer_contacts=f"Fictional lawyer {index + 1}: +7 000 000-00-{index:02d}",
            internal_notes=f"Fictional internal note {index + 1}.",
        )
        people.append(person)
        session.add(person)

    # A birthday soon for a card, whatever day the demo is loaded.
    soon = today + timedelta(days=12)
    people[1].birth_date = date(1991, soon.month, min(soon.day, 28))

    # Pre-trial detention, extended every three months since the arrest, still running.
    detained = people[:8]
    for index, person in enumerate(detained):
        start = person.arrested_on
        untils = []
        until = start + timedelta(days=60)
        while until < today:
            untils.append(until)
            until += timedelta(days=91)
        untils.append(until + timedelta(days=index * 3))
        chain_end = extension_chain(
            person, MeasureKind.PRE_TRIAL_DETENTION, start, untils, "Basmanny District Court of Moscow"
        )
        if index == 0:
            chain_end.source_url, chain_end.source_checked_on = ARTICLE, today - timedelta(days=3)
        person.status = DefendantStatus.PRE_TRIAL_DETENTION
        # SIZO-1 keeps its well-known name, in quotes in Russian as on its signs
        nickname = (" Matrosskaya Tishina", " «Матросская тишина»") if index == 0 else ("", "")
        session.add(Placement(defendant=person, facility=f"SIZO-{index + 1}{nickname[0]}, Moscow (demo)",
                              facility_original=f"СИЗО-{index + 1}{nickname[1]}, Москва (демо)", since=start))
    # One moved to house arrest (letters reach home through the support group), one released
    # under a travel ban (free: no address for letters is needed).
    house = people[8]
    extension_chain(house, MeasureKind.HOUSE_ARREST, house.arrested_on, [today + timedelta(days=40)],
                    "Basmanny District Court of Moscow")
    house.status = DefendantStatus.HOUSE_ARREST
    house.letters_address = f"Demo address for letters: {house.name_latin}, via the support group (fictional), " \
        "PO Box 0, 000000 Moscow"
    house.letters_address_original = f"Демо-адрес для писем: {house.name_original}, через группу поддержки " \
        "(вымышленную), а/я 0, 000000, Москва"
    ban = people[9]
    session.add(CustodyMeasure(defendant=ban, kind=MeasureKind.TRAVEL_BAN, starts_on=ban.arrested_on,
                               ordered_by="Basmanny District Court of Moscow"))
    ban.status = DefendantStatus.TRAVEL_BAN
    ban.letters_address, ban.letters_address_original, ban.letters_status = "", "", LettersStatus.UNKNOWN
    # One already sentenced, to be released within the year; held in the SIZO while the appeal runs.
    sentenced = people[10]
    sentenced.status = DefendantStatus.IMPRISONED
    session.add(Placement(defendant=sentenced, facility="SIZO-11, Moscow (demo)",
                          facility_original="СИЗО-11, Москва (демо)", since=sentenced.arrested_on))
    session.add(Decision(
        defendant=sentenced, case=leaflets, decided_on=today - timedelta(days=300), court="Moscow City Court",
        outcome=Outcome.IMPRISONMENT, term_years=1, term_months=6, regime="general regime colony",
        credited_days=60, under_appeal=True,
    ))
    # In transit ("на этапе"): sentenced, taken from the SIZO three weeks ago, and nobody knows where
    # they are; editors have been alerted (TRANSIT_ALERT_DAYS) and letters are marked as not delivered.
    etapov = Defendant(
        slug="denis-etapov", name_latin="Denis Etapov", name_original="Денис Этапов",
        bio="Fictional defendant of the demo: this person does not exist. Sentenced, then sent off by convoy "
        "to a colony; the tracker shows him in transit until his destination is known.",
        charges="Art. 280 (public calls to extremist activity)", birth_date=date(1992, 10, 3),
        arrested_on=today - timedelta(days=500), status=DefendantStatus.IMPRISONED, letters_address="",
        letters_status=LettersStatus.BLOCKED, cases=[leaflets],
        lawyer_contacts="Fictional lawyer: +7 000 000-00-99", internal_notes="Fictional: the FSIN hotline said "
        "'in transit' and nothing more.",
    )
    session.add(etapov)
    session.add(Decision(
        defendant=etapov, case=leaflets, decided_on=today - timedelta(days=120), court="Moscow City Court",
        outcome=Outcome.IMPRISONMENT, term_years=3, regime="general regime colony", credited_days=380,
    ))
    session.add(Placement(defendant=etapov, facility="SIZO-12, Moscow (demo)",
                          facility_original="СИЗО-12, Москва (демо)", since=etapov.arrested_on))
    session.add(Placement(defendant=etapov, facility="", in_transit=True, since=today - timedelta(days=20),
                          note="Taken from SIZO-12 by convoy (demo)."))
    # Stale facts: a house arrest whose end passed with nothing recorded since, and the hearing
    # before it still marked as scheduled. The public page says the status is unverified.
    ustareva = Defendant(
        slug="vera-ustareva", name_latin="Vera Ustareva", name_original="Вера Устарева",
        bio="Fictional defendant of the demo: this person does not exist. Her record was not updated after "
        "her house arrest ran out, so the tracker says her status is unverified.",
        charges="Art. 280 (public calls to extremist activity)", birth_date=date(1984, 2, 11),
        arrested_on=today - timedelta(days=150), status=DefendantStatus.HOUSE_ARREST, cases=[leaflets],
    )
    session.add(ustareva)
    extension_chain(ustareva, MeasureKind.HOUSE_ARREST, ustareva.arrested_on, [today - timedelta(days=12)],
                    "Basmanny District Court of Moscow")
    session.add(Hearing(
        case=leaflets, court=zamoskvoretsky, starts_at=at(workday(today - timedelta(days=19)), 11), courtroom="12",
        kind=HearingKind.CUSTODY_EXTENSION, defendants=[ustareva], judge="Demo Judge B. (fictional)",
    ))
    # A hidden defendant: the family asked for no publicity. Appears nowhere public.
    hidden = Defendant(
        slug="hidden-defendant", name_latin="Hidden Defendant", name_original="Скрытый Подсудимый",
        bio="Fictional. The family asked for no publicity.", status=DefendantStatus.PRE_TRIAL_DETENTION,
        is_public=False, cases=[bolotnaya], arrested_on=today - timedelta(days=200),
        internal_notes="Hidden at the family's request.",
    )
    session.add(hidden)

    # The joint trial of the detained: past sessions held, the next ones twice a week.
    joint = detained[:6]
    monday = today - timedelta(days=today.weekday())
    for week in range(-6, 6):
        for weekday_offset, hour in ((1, 11), (3, 14)):  # Tuesdays and Thursdays
            day = monday + timedelta(days=week * 7 + weekday_offset)
            past = day < today
            session.add(Hearing(
                case=bolotnaya, court=mosgorsud, starts_at=at(day, hour), duration_minutes=240,
                courtroom="635", seats=24, judge="Demo Judge A. (fictional)", kind=HearingKind.TRIAL,
                status=HearingStatus.HELD if past else HearingStatus.SCHEDULED,
                outcome_note="Witnesses for the prosecution were heard." if past else "",
                defendants=list(joint) + ([hidden] if week == 0 else []),
            ))
    # Custody-extension hearings shortly before each detention runs out.
    for person in detained:
        current = max(person.measures, key=lambda m: m.starts_on)
        session.add(Hearing(
            case=bolotnaya, court=zamoskvoretsky, starts_at=at(workday(current.until - timedelta(days=5)), 10, 30),
            duration_minutes=60, courtroom="12", judge="Demo Judge B. (fictional)",
            kind=HearingKind.CUSTODY_EXTENSION, defendants=[person], is_open=False,
            video_link_note="The defendant takes part by video link from the detention centre.",
        ))
    session.add(Hearing(
        case=leaflets, court=ural, starts_at=at(workday(today + timedelta(days=9)), 10, zone="Asia/Yekaterinburg"),
        duration_minutes=90, courtroom="3", judge="Demo Judge C. (fictional)", kind=HearingKind.PRELIMINARY,
        defendants=[house, ban],
    ))
    session.add(Hearing(
        case=leaflets, court=mosgorsud, starts_at=at(workday(today + timedelta(days=20)), 12), courtroom="401",
        kind=HearingKind.APPEAL, defendants=[sentenced], judge="Demo Judge D. (fictional)",
    ))
    session.add(Hearing(
        case=bolotnaya, court=mosgorsud, starts_at=at(workday(today + timedelta(days=2)), 15), courtroom="635",
        kind=HearingKind.OTHER, status=HearingStatus.CANCELLED, defendants=[people[7]],
        outcome_note="Cancelled: the judge is on leave (demo).",
    ))
    session.add(Hearing(
        case=bolotnaya, court=mosgorsud, starts_at=at(date(2012, 11, 24), 10), kind=HearingKind.VERDICT,
        status=HearingStatus.HELD, defendants=[luzyanin], outcome_note="Sentenced to 4 years 6 months.",
        source_url=ARTICLE, source_checked_on=ARTICLE_DAY,
    ))
    session.flush()
    # what features above the records add to the demo (attendance: people going to a hearing;
    # solidarity actions)
    for extra in current_app.extensions.get(DEMO_EXTRAS_KEY, []):
        extra(session, today)


DEMO_EXTRAS_KEY = "records.demo_extras"


def add_to_demo(app: Flask, loader: Callable[[Session, date], None]) -> None:
    """Have `load_demo` call `loader(session, today)` after the records: a feature's demo rows
    (records import no feature, so a feature brings its own)."""
    app.extensions.setdefault(DEMO_EXTRAS_KEY, []).append(loader)


def database_is_empty(session: Session) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no case yet (as `make run` does).")
@with_appcontext
def demo_data_command(if_empty: bool) -> None:
    """Load the demo data set."""
    if not database_is_empty(db.session):
        if if_empty:
            click.echo("Database already has data; demo not loaded.")
            return
        raise click.ClickException("The database already has cases; the demo goes into an empty database only.")
    click.echo("Loading the demo data...")
    load_demo(db.session, utcnow().date())
    db.session.commit()
    counts = {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for name, model in (("cases", Case), ("defendants", Defendant), ("hearings", Hearing))
    }
    click.echo("Loaded " + ", ".join(f"{n} {name}" for name, n in counts.items()) + ".")

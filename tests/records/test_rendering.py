"""The hearing lines, status lines and dates are built as strings once per page
(records/lines.py, records/status_text.py, docs/rendering.md): what they mark up stays markup,
what people typed stays text, in every language."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from tracker.extensions import db
from tracker.records.models import HearingStatus


@pytest.fixture
def lines(make_case, make_court, make_defendant, make_hearing, make_measure, now):
    case = make_case(slug="c-1", title="Case <1>")
    court = make_court(name="Court & Co", name_original="Суд & Ко", address="<Main> St")
    person = make_defendant(slug="a-b", name_latin="Anna <B>", name_original="Анна <Б>", cases=[case],
                            birth_date=date(1990, 3, 10), letters_address="SIZO <4>")
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2026, 6, 6))
    make_hearing(court=court, case=case, defendants=[person], starts_at=now + timedelta(days=2),
                 status=HearingStatus.POSTPONED, is_open=False, judge="Judge <J>", courtroom="6<3>5",
                 outcome_note="Moved <again>", source_url="https://example.org/?a=1&b=2")
    db.session.commit()
    return person


@pytest.mark.parametrize("language, badge, closed, name", [
    ("en", "postponed, new date not fixed", "closed to the public", "Anna &lt;B&gt;"),
    ("ru", "отложено, новая дата не назначена", "закрытое заседание", "Анна &lt;Б&gt;"),
])
@pytest.mark.parametrize("path", ["/hearings", "/cases/c-1", "/defendants/a-b"])
def test_badges_are_markup_and_typed_text_is_escaped(client, lines, now, path, language, badge, closed, name):
    with time_machine.travel(now, tick=False):
        html = client.get(path, headers={"Accept-Language": language}).get_data(as_text=True)
    assert f'<span class="badge">{badge}</span>' in html
    assert f'<span class="badge">{closed}</span>' in html
    assert "&lt;span" not in html
    for typed in (name, "Court &amp; Co", "Суд &amp; Ко", "&lt;Main&gt; St", "Judge &lt;J&gt;", "6&lt;3&gt;5",
                  "Moved &lt;again&gt;", 'href="https://example.org/?a=1&amp;b=2"'):
        assert typed in html, (path, typed)
    assert "<B>" not in html and "<Б>" not in html and "<J>" not in html and "<again>" not in html


@pytest.mark.parametrize("path", ["/", "/cases/c-1", "/dates"])
def test_names_and_status_lines_are_escaped_once(client, lines, now, path):
    with time_machine.travel(now, tick=False):
        html = client.get(path).get_data(as_text=True)
    assert '<a class="first" href="/defendants/a-b">Anna &lt;B&gt;</a>' in html
    assert "&amp;lt;" not in html and "&lt;span" not in html and "&lt;a " not in html


@pytest.mark.parametrize("slug", ["anna-b", "a_b.c~d", "анна", "a b", "a%2Fb", "a?b#c", "", "ANNA-1"])  # never "/": no slug has one
def test_a_link_maker_gives_what_url_for_gives(app, slug):
    """`url_maker` puts a plain slug in place as it is and quotes anything else as url_for would."""
    from flask import url_for

    from tracker.records.display import url_maker

    with app.test_request_context("/"):
        make = url_maker("records.defendant", "slug")
        if slug:
            assert make(slug) == url_for("records.defendant", slug=slug)
        else:
            assert make(slug) == "/defendants/"
        assert url_maker("attendance.attend", "hearing_id")(17) == url_for("attendance.attend", hearing_id=17)


PAIRS = [  # (latin, original, reads_original, tag, href) -> the HTML main's both_scripts wrote
    ("Anna <B>", "Анна <Б>", False, "span", "/d/a?b=1&c=2",
     '<a class="first" href="/d/a?b=1&amp;c=2">Anna &lt;B&gt;</a> <span class="other" lang="ru">Анна &lt;Б&gt;</span>'),
    ("Anna <B>", "Анна <Б>", True, "span", "/d/a",
     '<a class="first" href="/d/a">Анна &lt;Б&gt;</a> <span class="other" lang="en">Anna &lt;B&gt;</span>'),
    ("", " Суд & Ко ", False, "address", None, '<address class="first" lang="ru">Суд &amp; Ко</address>'),
    ("O'Brien \"Co\"", "O'Brien \"Co\"", True, "span", None,
     '<span class="first" lang="en">O&#39;Brien &#34;Co&#34;</span>'),
    ("SIZO <4>", None, False, "address", None, '<address class="first">SIZO &lt;4&gt;</address>'),
    (None, None, True, "span", None, '<span class="first" lang="en"></span>'),
]


@pytest.mark.parametrize("latin, original, reads_original, tag, href, expected", PAIRS)
def test_a_pair_as_plain_text_is_the_markup_pair(latin, original, reads_original, tag, href, expected):
    """`pair_html` (the lists' plain-str writer) and `both_scripts` give the HTML main gave: the
    same order, language marks and escaping, for names and addresses people typed."""
    from markupsafe import Markup

    from tracker.records.names import both_scripts, pair_html

    assert pair_html(latin, original, reads_original, tag=tag, href=href) == expected
    made = both_scripts(latin, original, tag=tag, href=href, reads_original=reads_original)
    assert isinstance(made, Markup) and made == expected


@pytest.mark.parametrize("text", ["Anna", "Анна <Б>", "O'Brien & \"Co\"", "<script>x</script>", "", "a&amp;b"])
def test_escape_text_is_markupsafes_escape(text):
    from markupsafe import Markup, escape

    from tracker.records.names import escape_text

    assert escape_text(text) == str(escape(text)) and type(escape_text(text)) is str
    assert escape_text(Markup(text)) == text  # already safe: left as it is, as escape does


def test_dates_show_typed_addresses_escaped_once(client, lines, now):
    with time_machine.travel(now, tick=False):
        html = client.get("/dates").get_data(as_text=True)
    assert '<address class="first">SIZO &lt;4&gt;</address>' in html
    assert "<4>" not in html and "&amp;lt;" not in html

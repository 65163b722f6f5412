"""/hearings' days, case filter and per-line links written in Python (docs/rendering.md, fifth
pass): the bytes the template's loops wrote, typed text escaped once."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from tracker.extensions import db
from tracker.records.display import display, id_url_parts, url_maker
from tracker.records.lines import case_options_html, days_html

OLD_OPTIONS = ('{% for slug, title in cases %}<option value="{{ slug }}" {% if case_slug == slug %}selected{% endif %}>'
               '{{ title }}</option>{% endfor %}')
OLD_DAYS = """{% for day, hearings in groups %}
<section class="day">
<h2><time datetime="{{ day.isoformat() }}">{{ show.day(day) }}</time></h2>
{{ hearing_lines(hearings) }}
</section>
{% else %}
<p>none</p>
{% endfor %}"""

HOSTILE = [("a-1", "Case <1> & 'co'"), ('b"2', 'Title "quoted"'), ("<s>", "<script>alert(1)</script>"), ("plain", "Plain")]


@pytest.mark.parametrize("chosen", [None, "a-1", 'b"2', "<s>", "missing"])
def test_case_options_are_the_template_loops_bytes(app, chosen):
    with app.test_request_context("/hearings"):
        expected = app.jinja_env.from_string(OLD_OPTIONS).render(cases=HOSTILE, case_slug=chosen)
        assert str(case_options_html(HOSTILE, chosen)) == expected
    assert "<script>" not in expected


class _Line:
    def __init__(self, html: str) -> None:
        self.html = html


@pytest.mark.parametrize("language", ["en", "ru"])
def test_days_are_the_template_loops_bytes(app, language):
    groups = [(date(2026, 3, 2), [_Line("<div>a</div>\n"), _Line("<div>b</div>\n")]), (date(2026, 3, 5), [_Line("x")])]
    with app.test_request_context(f"/hearings?lang={language}"):
        app.preprocess_request()
        show = display()
        for case in (groups, []):
            expected = app.jinja_env.from_string(OLD_DAYS).render(groups=case, show=show)
            written = str(days_html(case, show)) if case else "\n<p>none</p>\n"
            assert written == expected


@pytest.mark.parametrize("endpoint, key, values", [
    ("feeds.hearing", "hearing_id", {}), ("feeds.hearing", "hearing_id", {"lang": "ru"}),
    ("attendance.attend", "hearing_id", {}), ("attendance.attendees", "hearing_id", {}),
])
def test_an_id_links_parts_around_the_id_give_what_url_for_gives(app, endpoint, key, values):
    from flask import url_for

    with app.test_request_context("/"):
        head, tail = id_url_parts(endpoint, key, **values)
        for number in (1, 42, 1234567):
            assert f"{head}{number}{tail}" == url_for(endpoint, **{key: number}, **values) == url_maker(
                endpoint, key, **values)(number)


def test_the_case_filter_escapes_typed_titles_on_the_page(client, make_case, make_court, make_defendant,
                                                        make_hearing, now):
    case = make_case(slug="c-1", title="Case <1> & 'co'")
    person = make_defendant(slug="a-b", name_latin="Anna", cases=[case])
    make_hearing(court=make_court(), case=case, defendants=[person], starts_at=now + timedelta(days=2))
    db.session.commit()
    with time_machine.travel(now, tick=False):
        html = client.get("/hearings?case=c-1").get_data(as_text=True)
    assert '<option value="c-1" selected>Case &lt;1&gt; &amp; &#39;co&#39;</option>' in html
    assert '<section class="day">' in html and "Case <1>" not in html


def test_the_subscribe_links_follow_a_changed_feeds_address(app, client, make_case):
    """feed_links is made once per process and configuration (feeds.views._feed_links): a new
    FEEDS_URL (a CDN) gives new links at once."""
    make_case(slug="c-1", title="Case")
    db.session.commit()
    before = app.config.get("FEEDS_URL")
    try:
        app.config["FEEDS_URL"] = "https://cdn-one.example/feeds"
        first = client.get("/hearings").get_data(as_text=True)
        app.config["FEEDS_URL"] = "https://cdn-two.example/feeds"
        second = client.get("/hearings").get_data(as_text=True)
    finally:
        app.config["FEEDS_URL"] = before
    assert "webcal://cdn-one.example/feeds/all.ics" in first and "cdn-two" not in first
    assert "webcal://cdn-two.example/feeds/all.ics" in second and "cdn-one" not in second

"""The actions lists' HTML written in Python (docs/rendering.md, fifth pass): the calendar
links as the Jinja macro wrote them, typed text escaped once, and a defendant's list keeping
exactly the actions `Action.public_clause` makes public."""
from __future__ import annotations

import pytest
import time_machine

from tracker.actions import listing
from tracker.actions.rendering import calendar_links_html
from tracker.extensions import db, utcnow



@pytest.fixture(autouse=True)
def _clock(now):
    with time_machine.travel(now, tick=False):
        yield


# the macro `calendar_links` of templates/actions/_action.html as it was before the fifth pass
OLD_MACRO = """{% macro calendar_links(url) -%}
<p class="calendar-links">{{ _("In your calendar:") }}
  <a href="{{ url|replace('https://', 'webcal://')|replace('http://', 'webcal://') }}">{{ _("Subscribe in Apple Calendar, Outlook or Thunderbird") }}</a>
  · <a href="https://calendar.google.com/calendar/r?cid={{ url|replace('https://', 'webcal://')|replace('http://', 'webcal://')|urlencode }}" rel="noopener noreferrer">{{ _("Google Calendar") }}</a>
  · <a href="{{ url }}">{{ _("the calendar's address") }}</a></p>
{%- endmacro %}{{ calendar_links(url) }}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("url", [
    "https://example.org/actions/all.ics",
    "http://localhost:5000/actions/defendants/anna-petrova.ics",
    "https://example.org/a&b/<script>\"x'.ics",
    "https://example.org/путь с пробелом/%2F.ics?a=1&b=2",
])
def test_calendar_links_are_the_old_macros_bytes(app, url, language):
    with app.test_request_context(f"/actions?lang={language}"):
        app.preprocess_request()
        expected = app.jinja_env.from_string(OLD_MACRO).render(url=url)
        written = calendar_links_html(url)
    assert str(written) == expected
    assert "<script>" not in written and "'x" not in written


def test_an_actions_typed_text_is_escaped_once_on_every_list(anon_client, make_action, make_case, make_defendant):
    case = make_case(slug="c-1", title="Case & <c>")
    anna = make_defendant(slug="anna", name_latin='Anna <B> "q"', cases=[case])
    make_action(title="<script>alert(1)</script> & 'q'", city="Ber<lin>", address="Street & <5>",
                organiser="<Org> & co", description="One <b>\n\nTwo & 'three'", defendants=[anna], case=case)
    db.session.commit()
    for path in ("/actions", "/defendants/anna", "/cases/c-1"):
        html = anon_client.get(path).get_data(as_text=True)
        for typed in ("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;q&#39;", "Street &amp; &lt;5&gt;",
                      "&lt;Org&gt; &amp; co", "<p>One &lt;b&gt;</p><p>Two &amp; &#39;three&#39;</p>",
                      'Anna &lt;B&gt; &#34;q&#34;</a>', "Case &amp; &lt;c&gt;</a>"):
            assert typed in html, (path, typed)
        assert "<script>alert" not in html and "<Org>" not in html and "&amp;lt;" not in html, path
    assert "Ber&lt;lin&gt;, Germany" in anon_client.get("/defendants/anna").get_data(as_text=True)


def test_a_defendants_list_is_what_the_public_rule_shows(app, make_action, make_defendant):
    """The defendant scope tests only the status besides the link (listing._scope_statements):
    the same actions as the general rule for a public defendant, none for a hidden one."""
    anna = make_defendant(slug="anna", name_latin="Anna")
    hidden = make_defendant(slug="hidden", name_latin="Hidden", is_public=False)
    from tracker.actions.models import ActionStatus

    both = make_action(title="Both", defendants=[anna, hidden])
    only_anna = make_action(title="Anna's", defendants=[anna])
    make_action(title="Hidden's", defendants=[hidden])
    called_off = make_action(title="Called off", defendants=[anna], status=ActionStatus.CANCELLED)
    make_action(title="Pending", defendants=[anna], status=ActionStatus.PENDING)
    make_action(title="Rejected", defendants=[anna, hidden], status=ActionStatus.REJECTED)
    db.session.commit()
    with app.test_request_context("/"):
        now = utcnow()
        listed = {action.id for action in listing.of_defendant_listed(db.session, anna.id, now)}
        public = {action.id for action in listing.upcoming_listed(db.session, now)}
        assert listed == {both.id, only_anna.id, called_off.id}
        assert listed == {a.id for a in listing.upcoming_listed(db.session, now)
                          if "anna" in {p.slug for p in a.people}} and listed <= public
        assert listing.of_defendant_listed(db.session, hidden.id, now) == []

"""The action form's defendants are worded, sorted and written once while the database gives
the same rows (tracker/actions/logic.linkable_defendants, forms.DefendantsByCase): every
request still reads them, and any change to what the list shows makes it anew."""
from __future__ import annotations

import re

from tests.actions.conftest import post_form
from tracker.actions import logic
from tracker.extensions import db
from tracker.records.models import Defendant


def _boxes(page: str) -> list[tuple[bool, str, str]]:
    """(ticked, value, name) of each defendant's checkbox, in order."""
    return [(bool(ticked), value, name) for ticked, value, name in re.findall(
        r'<label><input( checked)? name="defendants" type="checkbox" value="(\d+)"> ([^<]*)</label>', page)]


def test_the_same_rows_give_the_same_list_and_any_change_a_new_one(app, anon_client, make_defendant, make_case):
    case = make_case(slug="leaflets", title="Leaflets", title_original="Листовки")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова", cases=[case])
    boris = make_defendant(slug="boris", name_latin="Boris Ivanov", name_original="")
    db.session.commit()
    with app.app_context(), app.test_request_context("/actions/new?lang=en"):
        app.preprocess_request()  # the language chosen
        first, again = logic.linkable_defendants(db.session), logic.linkable_defendants(db.session)
    assert again is first  # kept: the same rows
    assert first == [(str(anna.id), "Anna Petrova", "Leaflets"), (str(boris.id), "Boris Ivanov", None)]

    # the reader's script is part of what the list is made of
    with app.app_context(), app.test_request_context("/actions/new?lang=ru"):
        app.preprocess_request()
        assert logic.linkable_defendants(db.session) == [
            (str(anna.id), "Анна Петрова", "Листовки"), (str(boris.id), "Boris Ivanov", None)]

    page = anon_client.get("/actions/new").get_data(as_text=True)
    assert _boxes(page) == [(False, str(anna.id), "Anna Petrova"), (False, str(boris.id), "Boris Ivanov")]
    db.session.get(Defendant, boris.id).name_latin = "Boris Renamed"
    db.session.commit()
    assert _boxes(anon_client.get("/actions/new").get_data(as_text=True))[1] == (False, str(boris.id), "Boris Renamed")

    db.session.get(Defendant, boris.id).cases.append(case)  # a new link: Boris joins the case's group
    db.session.commit()
    page = anon_client.get("/actions/new").get_data(as_text=True)
    assert "<summary>Leaflets (2)</summary>" in page and "Not in a case" not in page

    db.session.get(Defendant, anna.id).is_public = False
    db.session.commit()
    page = anon_client.get("/actions/new").get_data(as_text=True)
    assert _boxes(page) == [(False, str(boris.id), "Boris Renamed")] and "Anna" not in page


def test_a_kept_list_is_written_with_each_request_s_own_ticks(anon_client, submission, make_defendant):
    anna = make_defendant(slug="anna", name_latin="Anna Petrova")
    boris = make_defendant(slug="boris", name_latin="Boris Ivanov")
    db.session.commit()
    plain = anon_client.get("/actions/new").get_data(as_text=True)
    ticked = anon_client.get("/actions/new?defendant=boris").get_data(as_text=True)
    assert [box[0] for box in _boxes(plain)] == [False, False]
    assert [box[0] for box in _boxes(ticked)] == [False, True]
    assert anon_client.get("/actions/new").get_data(as_text=True) == plain  # the ticks do not stay
    sent_back = post_form(anon_client, "/actions/new", submission(title="", defendants=[str(anna.id)]))
    assert [box[0] for box in _boxes(sent_back.get_data(as_text=True))] == [True, False]
    assert anon_client.get("/actions/new").get_data(as_text=True) == plain


def test_names_and_titles_are_escaped_written_anew_and_kept(anon_client, make_defendant, make_case):
    case = make_case(slug="odd", title='Case <b>"bold"</b> & co')
    make_defendant(slug="odd", name_latin="<script>alert('x')</script> & \"Q\"", cases=[case])
    db.session.commit()
    pages = [anon_client.get("/actions/new").get_data(as_text=True) for _ in range(2)]
    assert pages[0] == pages[1]
    for page in pages:
        assert "<script>alert" not in page and "<b>" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;Q&#34;</label>" in page
        assert "<summary>Case &lt;b&gt;&#34;bold&#34;&lt;/b&gt; &amp; co (1)</summary>" in page

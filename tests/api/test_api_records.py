"""What /api/v1/ answers: public records, in the documented shapes, times in the court's zone."""
from __future__ import annotations

import time_machine


def get_json(client, url: str, status: int = 200, **kw):
    response = client.get(url, **kw)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    return response.get_json()


def test_index_links_every_listing(client, conforms):
    body = get_json(client, "/api/v1/")
    conforms(body, "Index")
    for name in ("cases", "defendants", "hearings", "courts"):
        assert get_json(client, body[name])["items"] == []
    assert client.get(body["defendants_csv"]).status_code == 200
    assert client.get(body["openapi"]).get_json()["openapi"] == "3.1.0"


def test_hearing_times_are_local_with_the_zone_named(client, public_records, conforms, now):
    ids = public_records.ids
    with time_machine.travel(now, tick=False):
        together = get_json(client, f"/api/v1/hearings/{ids['together']}")
        urals = get_json(client, f"/api/v1/hearings/{ids['urals_hearing']}")
    conforms(together, "Hearing")
    conforms(urals, "Hearing")
    # 2026-03-04 09:00 UTC is noon in Moscow; 2026-03-07 10:00 UTC is 15:00 in Yekaterinburg
    assert (together["starts_at"], together["timezone"]) == ("2026-03-04T12:00:00+03:00", "Europe/Moscow")
    assert together["ends_at"] == "2026-03-04T14:00:00+03:00"
    assert (urals["starts_at"], urals["timezone"]) == ("2026-03-07T15:00:00+05:00", "Asia/Yekaterinburg")
    assert together["kind"] == {"value": "trial", "label": "trial session"}
    assert together["status"] == {"value": "scheduled", "label": "scheduled"}
    assert together["court"]["name"] == "Moscow City Court"
    # both scripts, side by side
    assert (together["court"]["name_original"], together["court"]["address_original"]) == (
        "Мосгорсуд", "Богородский Вал, 8")
    assert urals["court"]["name_original"] == "" and urals["court"]["address"] == "Lenina 1, Yekaterinburg"
    assert (together["courtroom"], together["judge"]) == ("635", "Judge A.")
    assert together["case"]["slug"] == "bolotnaya"
    # the hidden co-defendant is not named; the hearing is public through Anna
    assert [d["slug"] for d in together["defendants"]] == ["anna"]
    assert together["defendants"][0]["name_original"] == "Анна Петрова"


def test_a_hearing_of_hidden_defendants_only_does_not_exist(client, public_records):
    body = get_json(client, f"/api/v1/hearings/{public_records.ids['secret']}", status=404)
    assert body["error"]["status"] == 404
    listed = get_json(client, "/api/v1/hearings?limit=200")
    assert public_records.ids["secret"] not in {h["id"] for h in listed["items"]}


def test_defendant_with_custody_chain_decisions_and_placements(client, public_records, conforms, now):
    ids = public_records.ids
    with time_machine.travel(now, tick=False):
        anna = get_json(client, "/api/v1/defendants/anna")
        boris = get_json(client, "/api/v1/defendants/boris")
    conforms(anna, "Defendant")
    conforms(boris, "Defendant")
    assert (anna["name_latin"], anna["name_original"]) == ("Anna Petrova", "Анна Петрова")
    assert anna["status"] == {"value": "pre_trial_detention", "label": "in pre-trial detention"}
    assert anna["charges"] == ["212 ч.2", "318 ч.1"]
    assert anna["custody"]["since"] == "2025-06-08"
    assert anna["custody"]["extensions"] == 1
    assert anna["custody"]["until"] == "2026-06-08"
    chain = anna["custody_measures"]
    assert [(m["starts_on"], m["extends_id"]) for m in chain] == [
        ("2025-06-08", None), ("2025-08-08", ids["anna_first_measure"])]
    assert [p["facility"] for p in anna["placements"]] == ["SIZO-1, Moscow", "SIZO-2, Moscow"]
    assert anna["placement"]["facility"] == "SIZO-2, Moscow"
    assert [p["facility_original"] for p in anna["placements"]] == ["", "СИЗО-2, Москва"]
    assert anna["placement"]["source"] == {"url": "https://example.org/news/1", "checked_on": "2025-12-02"}
    assert anna["letters"] == {"address": "SIZO-1, Moscow", "address_original": None,
                               "status": {"value": "reach", "label": "letters reach"}}
    assert anna["next_hearing"]["id"] == ids["together"]
    assert anna["next_hearing"]["starts_at"] == "2026-03-04T12:00:00+03:00"
    assert [(c["slug"], c["title"], c["title_original"]) for c in anna["cases"]] == [
        ("bolotnaya", "Bolotnaya", "Болотное дело")]
    assert anna["page_url"].endswith("/defendants/anna")

    (decision,) = boris["decisions"]
    assert decision["outcome"]["value"] == "imprisonment"
    assert decision["term"] == {"years": 6, "months": 0, "days": 0, "label": "6 years"}
    # 2025-11-24 + 6 years - 100 days credited
    assert decision["expected_release"] == boris["expected_release"] == "2031-08-16"
    assert boris["sentence_in_force_id"] == decision["id"]
    assert boris["custody"] is None and boris["letters"]["address"] is None


def test_hidden_defendant_is_absent_everywhere(client, public_records):
    hidden = public_records.slugs["hidden"]
    get_json(client, f"/api/v1/defendants/{hidden}", status=404)
    listed = get_json(client, "/api/v1/defendants")
    assert [d["slug"] for d in listed["items"]] == ["anna", "boris"]
    case = get_json(client, "/api/v1/cases/bolotnaya")
    assert [d["slug"] for d in case["defendants"]] == ["anna", "boris"]
    # filtering by a hidden defendant reads exactly like filtering by one that never existed
    hidden_answer = get_json(client, f"/api/v1/hearings?defendant={hidden}", status=400)
    unknown_answer = get_json(client, "/api/v1/hearings?defendant=nobody", status=400)
    assert hidden_answer["error"]["message"].replace(hidden, "X") == unknown_answer["error"]["message"].replace(
        "nobody", "X")


def test_cases_and_courts(client, public_records, conforms):
    cases = get_json(client, "/api/v1/cases")
    conforms(cases, "CaseList")
    assert [c["slug"] for c in cases["items"]] == ["bolotnaya", "other"]
    bolotnaya = get_json(client, "/api/v1/cases/bolotnaya")
    conforms(bolotnaya, "Case")
    assert bolotnaya["case_number"] == "1-2/2026"
    assert bolotnaya["defendants"][0]["status"]["value"] == "pre_trial_detention"
    hearings = get_json(client, bolotnaya["hearings_url"])
    assert {h["id"] for h in hearings["items"]} == {
        public_records.ids[k] for k in ("together", "past", "cancelled")}
    courts = get_json(client, "/api/v1/courts")
    conforms(courts, "CourtList")
    assert [(c["name"], c["timezone"]) for c in courts["items"]] == [
        ("Moscow City Court", "Europe/Moscow"), ("Sverdlovsk Regional Court", "Asia/Yekaterinburg")]
    court = get_json(client, f"/api/v1/courts/{public_records.ids['urals']}")
    conforms(court, "Court")
    assert court["address"] == "Lenina 1, Yekaterinburg"
    get_json(client, "/api/v1/cases/nothing", status=404)
    get_json(client, "/api/v1/courts/999999", status=404)


def test_every_listing_conforms_to_its_schema(client, public_records, conforms, now):
    with time_machine.travel(now, tick=False):
        for listing, schema in (("cases", "CaseList"), ("defendants", "DefendantList"),
                                ("hearings", "HearingList"), ("courts", "CourtList")):
            body = get_json(client, f"/api/v1/{listing}?limit=1")
            conforms(body, schema)
            assert body["next"] is not None


def test_labels_follow_accept_language_and_values_do_not(client, public_records):
    english = get_json(client, "/api/v1/defendants/anna", headers={"Accept-Language": "en"})
    russian = client.get("/api/v1/defendants/anna", headers={"Accept-Language": "ru"})
    assert russian.get_json()["status"]["value"] == english["status"]["value"]
    assert "Accept-Language" in russian.headers["Vary"]


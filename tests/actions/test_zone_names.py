"""The action form names time zones in the reader's language, as "country, city", sorted by that
name: an organiser in Tbilisi looks for Грузия, not for "Asia/Tbilisi" among 490 IANA names.
The IANA name stays the option's value, what is sent and stored."""
from __future__ import annotations

import re

import pytest

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


def _zone_options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select[^>]*name="timezone"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(value, label.strip()) for value, label in re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)', select)]


@pytest.mark.parametrize("headers, tbilisi, berlin, first, second", [
    (RU, "Грузия, Тбилиси", "Германия, Берлин", "Германия, Берлин", "Грузия, Тбилиси"),
    (EN, "Georgia, Tbilisi", "Germany, Berlin", "Georgia, Tbilisi", "Germany, Berlin"),
])
def test_zones_are_named_and_sorted_in_the_readers_language(client, headers, tbilisi, berlin, first, second):
    options = _zone_options(client.get("/actions/new", headers=headers).text)
    named = dict(options)
    assert named["Asia/Tbilisi"] == tbilisi and named["Europe/Berlin"] == berlin
    labels = [label for _, label in options]
    assert labels.index(first) < labels.index(second)
    assert labels == sorted(labels, key=lambda label: label.casefold().replace("ё", "е"))
    assert len(labels) == len(set(labels)), "two zones may not read the same"
    assert not any(re.fullmatch(r"[A-Z][a-z]+/\w+", label) for label in labels), "an IANA name shown as a name"

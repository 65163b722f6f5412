"""Names and places in two scripts: which one a reader sees first, and the search key.

Every name and address the tracker stores twice (a defendant's name, a court's name and
address, a facility, an address for letters) has a Latin field and an `_original` field in
the script it is written in (Cyrillic for Russia, Belarus, Ukraine, Kazakhstan...).

`in_script` orders a pair for the reader: a page in a language written in Cyrillic shows the
original first, any other shows the Latin first; the other one follows it. Which script a
language is written in comes from Babel's CLDR data, so a new language's catalogue is all a
new language needs.

`search_key` turns a name, in either script, into one canonical Latin spelling so that people
find a person however they type the name (docs/search.md): case and ё/е, й/и folded, Cyrillic
transliterated by anyascii, then a few documented rules that make the common Latin spellings
of one Russian name agree (Yulia/Julia/Iuliia, Aleksei/Alexey, -sky/-skiy/-skii, Shch/Sch).
The key is stored beside the names (`Defendant.search_name`), and a query is keyed the same
way and matched word by word with LIKE: the same on SQLite and PostgreSQL, one statement.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii
from babel.core import get_global
from flask_babel import get_locale
from markupsafe import Markup, escape


# --- the reader's script first ---------------------------------------------------------------

@lru_cache(maxsize=64)
def script_of_language(language: str) -> str:
    """The ISO 15924 script a language is usually written in ("ru" -> "Cyrl", "en" -> "Latn")."""
    likely = get_global("likely_subtags").get(language, "")
    parts = likely.split("_")
    return parts[1] if len(parts) > 2 else "Latn"


@lru_cache(maxsize=64)
def reads_latin(language: str) -> bool:
    """Whether readers of `language` ("en", "ru", "pt_BR", "sr-Latn"...) read the Latin script
    rather than the originals' (Russian, Belarusian, Ukrainian, Kazakh...): which of a defendant's
    two names a mail or a calendar event puts first. One rule for both (they had a copy each)."""
    return script_of_language(language.replace("-", "_").split("_")[0]) == "Latn"


def reader_reads_original() -> bool:
    """Whether the current reader's language is written in Cyrillic (the originals' script).

    Outside a request (the scheduler, the CLI) the default locale decides."""
    locale = get_locale()
    language = locale.language if locale is not None else "en"
    return script_of_language(language) == "Cyrl"


@dataclass(frozen=True)
class ScriptPair:
    """A name or place as the reader sees it: `first` in the reader's script when there is one,
    `second` the other spelling, or "" when there is none or it says the same."""

    first: str
    first_is_original: bool
    second: str

    def __str__(self) -> str:
        return f"{self.first} ({self.second})" if self.second else self.first


def in_script(latin: str | None, original: str | None, reads_original: bool | None = None) -> ScriptPair:
    """The pair ordered for the current reader (or for `reads_original`, when a caller already
    knows it: a page's lists ask once). Either side may be empty (a court entered only in Latin,
    an old facility with no original): the one there is then comes first, alone."""
    return ScriptPair(*_ordered(latin, original, reader_reads_original() if reads_original is None else reads_original))


def _ordered(latin: str | None, original: str | None, original_first: bool) -> tuple[str, bool, str]:
    """`in_script`'s (first, first_is_original, second), without the object (lists write
    hundreds of pairs: `pair_html`)."""
    latin, original = (latin or "").strip(), (original or "").strip()
    if not original or original == latin:
        return latin, False, ""
    if not latin:
        return original, True, ""
    if original_first:
        return original, True, latin
    return latin, False, original


ORIGINAL_LANG = "ru"  # the lang attribute of an original-script span: screen readers pick a voice by it
LATIN_LANG = "en"


def both_scripts(latin: str | None, original: str | None, *, tag: str = "span", href: str | None = None,
                 reads_original: bool | None = None) -> Markup:
    """HTML for a pair: the reader's script first (a link to `href` when given), the other beside
    it in `<span class="other">`, each marked with its language when it differs from the page's.
    Templates call it as `both_scripts(court.name, court.name_original)`."""
    return Markup(pair_html(latin, original, reader_reads_original() if reads_original is None else reads_original,
                            tag=tag, href=href))


_LANG_ATTR = {True: f' lang="{ORIGINAL_LANG}"', False: f' lang="{LATIN_LANG}"'}  # by "is the text original"


def pair_html(latin: str | None, original: str | None, reads_original: bool, *, tag: str = "span",
              href: str | None = None) -> str:
    """`both_scripts`' HTML as a plain str, for a list that writes hundreds of pairs and marks
    the whole list safe once (records.lines.dates_html). f-strings and `escape_text`, not
    `Markup.format` or a Markup per piece: at ~700 pairs a page those were a fifth of /dates."""
    first, first_is_original, second = _ordered(latin, original, reads_original)
    lang = "" if first_is_original == reads_original else _LANG_ATTR[first_is_original]
    if href:
        html = f'<a class="first" href="{escape_text(href)}"{lang}>{escape_text(first)}</a>'
    else:
        html = f'<{tag} class="first"{lang}>{escape_text(first)}</{tag}>'
    if second:
        lang = "" if first_is_original != reads_original else _LANG_ATTR[not first_is_original]
        html = f'{html} <{tag} class="other"{lang}>{escape_text(second)}</{tag}>'
    return html


_NEEDS_ESCAPE = re.compile(r"[&<>'\"]")


def escape_text(text: str) -> str:
    """markupsafe's `escape` of a str, as a plain str (the same entities: &amp; &lt; &gt; &#39;
    &#34;). `escape` checks for `__html__` and returns a Markup, ~3x the cost when, as with most
    names and addresses, there is nothing to escape."""
    if type(text) is not str:  # a Markup (already safe) or another object: escape's own rules
        return str(escape(text))
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
            .replace('"', "&#34;"))


def first_script(latin: str | None, original: str | None, reads_original: bool | None = None) -> str:
    """Just the reader's spelling, as plain text (links, titles, subject lines): `in_script`'s
    `first`, without making the pair (the action form names 2,000 people: ~1 µs each)."""
    return _ordered(latin, original, reader_reads_original() if reads_original is None else reads_original)[0]


def titles_as_shown(rows: Iterable[Sequence]) -> list[tuple[object, str]]:
    """(key, title) from (key, title, title_original) rows: each title in the reader's script
    (`first_script`), sorted as the reader reads them (`reading_key`)."""
    reads_original = reader_reads_original()
    keyed = [(reading_key(title, original, reads_original), str(key), key,
              first_script(title, original, reads_original)) for key, title, original in rows]
    return [(key, shown) for _, _, key, shown in sorted(keyed)]


# --- lists in the reader's order -------------------------------------------------------------

def reading_key(latin: str | None, original: str | None, reads_original: bool) -> tuple[bool, str]:
    """Sort key of a pair as the reader sees it: by the spelling shown first, names in the
    reader's own script before the others (as a Russian dictionary puts Latin after Cyrillic),
    ё sorting as е. A Russian list sorted by the Latin spellings puts «Вера» (Vera) after «Тимур»
    (Timur); docs/search.md "Order of lists"."""
    first, first_is_original, _ = _ordered(latin, original, reads_original)
    return first_is_original != reads_original, first.casefold().replace("ё", "е")


def sort_key_original(latin: str | None, original: str | None) -> str:
    """`reading_key` for a reader of the originals' script, as one string (its flag a leading
    0 or 1) that a database compares the same way: stored as `Defendant.sort_key_original` and
    indexed, so the home list, paginated in SQL, pages in the Russian reader's order without
    sorting every defendant (~1.4 ms on SQLite at 2,000 defendants computed in the query)."""
    later, text = reading_key(latin, original, True)
    return f"{int(later)}{text}"[:420]


def stored_name_keys(latin: str | None, original: str | None) -> dict[str, str]:
    """The keys stored beside a defendant's names: what the model's listener writes on each
    change, and what a bulk insert (synthetic data, benches) passes with the names."""
    return {"search_name": search_key(original, latin)[:420], "sort_key_original": sort_key_original(latin, original)}


# --- the search key --------------------------------------------------------------------------

# Applied in order to the transliterated text (lower-case ASCII words separated by spaces), of
# the stored names and of the query alike: two spellings that end up the same find each other.
# Each rule merges spellings that the usual transliteration systems (GOST, BGN/PCGN, passports
# of several years, German and Polish habits) write differently for the same Cyrillic letters.
# A rule is a regular expression and its replacement, or a table of single letters (faster).
_CONSONANT = "bcdfghklmnpqrstvz0-9"  # what is left once x, w, j and y are rewritten
VARIANT_RULES: list[tuple[re.Pattern[str] | dict[int, str], str, str]] = [
    (str.maketrans({"x": "ks", "w": "v"}), "", "Alexey = Aleksey, Wolkow = Volkov"),
    (re.compile(r"shch"), "sch", "Shchukin = Schukin"),
    (re.compile(r"kh"), "h", "Mikhail = Mihail, Khodorkovsky = Hodorkovsky"),
    (re.compile(r"(?<=[bcdfghklmnpqrstvz])yo"), "e", "Fyodor = Fedor = Фёдор, Pyotr = Petr"),
    (str.maketrans({"j": "i", "y": "i"}), "", "Yulia = Julia = Iulia, Aleksey = Aleksei, -sky = -ski"),
    (re.compile(rf"(?<![{_CONSONANT}])i[eo]"), "e",
     "at a word's start or after a vowel: Yevgeny = Evgeny, Sergeyev = Sergeev, Yolkin = Ёлкин"),
    (re.compile(r"i{2,}"), "i", "Iuliia = Iulia, -skii = -ski, Dmitrii = Dmitri"),
]

# anyascii writes ь and ъ as an apostrophe: before a vowel they sound as "y" (Наталья = Natalya,
# Ильин = Ilyin), elsewhere they are dropped (Игорь = Igor).
_SIGN_BEFORE_VOWEL = re.compile(r"['\"](?=[aeiouy])")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")

MAX_QUERY_WORDS = 6  # a name has three or four words; more is not a name


def _fold(text: str) -> str:
    """Lower case in every script, ё as е and й as и (people drop the dots and the breve)."""
    return text.casefold().replace("ё", "е").replace("й", "и")


def _apply_rules(latin: str) -> str:
    for rule, replacement, _example in VARIANT_RULES:
        latin = latin.translate(rule) if isinstance(rule, dict) else rule.sub(replacement, latin)
    return latin


def key_words(text: str | None) -> list[str]:
    """The canonical words of a text: folded, transliterated, variant rules applied."""
    latin = anyascii(_fold(text or "")).lower()
    latin = _NOT_A_WORD.sub(" ", _SIGN_BEFORE_VOWEL.sub("i", latin))
    return _apply_rules(latin).split()


def search_key(*names: str | None) -> str:
    """The stored search key of a record from its names in any script (duplicates kept once)."""
    words: list[str] = []
    for name in names:
        for word in key_words(name):
            if word not in words:
                words.append(word)
    return " ".join(words)


def query_words(query: str) -> list[str]:
    """The words a search looks for, each as a part of a stored word (any order, any part)."""
    words: list[str] = []
    for word in key_words(query):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


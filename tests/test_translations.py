"""Every message the app can show has a translation in every catalogue, safe to format.

The template is extracted afresh from the sources (babel.cfg, as `make messages` does)
into a temporary directory, so a string added without running `make messages` fails here
too. A translation that drops or adds a placeholder would raise a KeyError or show
"%(num)d" to a reader; a fuzzy one (a guess left by `pybabel update`) is never compiled;
a plural entry needs exactly the language's number of forms.
"""
from __future__ import annotations

import ast
import importlib
import io
import pkgutil
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.util import pathmatch
from flask_babel import force_locale, gettext

import tracker
from config import Config

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "tracker" / "translations"
SOURCE_LANGUAGE = "en"  # the msgids themselves
CATALOGUES = [path.parent.parent.name for path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))]
# Every language the app offers is checked, whether or not its catalogue exists yet.
LANGUAGES = sorted(set(CATALOGUES) | set(Config.LANGUAGES) - {SOURCE_LANGUAGE})

# %(name)s, %(num)d, %s, %.1f ... as Python's % operator reads them; "%%" is a literal percent.
PERCENT_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]"
)
BRACE_PLACEHOLDER = re.compile(r"\{[^{}\s]*\}")
HTML_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")
TRANSLATION_FUNCTIONS = {
    "gettext", "ngettext", "pgettext", "npgettext",
    "lazy_gettext", "lazy_ngettext", "lazy_pgettext", "lazy_npgettext",
}


def placeholders(text: str) -> Counter:
    """The placeholders a formatter fills in, and any stray "%" that would make it fail."""
    found = Counter(m.group(0) for m in PERCENT_PLACEHOLDER.finditer(text) if m.group(0) != "%%")
    if "%" in PERCENT_PLACEHOLDER.sub("", text):
        found["stray %"] += 1
    found.update(BRACE_PLACEHOLDER.findall(text))
    return found


def tags(text: str) -> Counter:
    return Counter(m.group(0) for m in HTML_TAG.finditer(text))


def read_catalogue(path: Path) -> Catalog:
    assert path.exists(), f"{path} is missing: `make messages` starts the Russian one, docs/development.md others"
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Catalog:
    """messages.pot extracted now, from the sources as they are, with the project's babel.cfg."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    status = CommandLineInterface().run(
        ["pybabel", "--quiet", "extract", "-F", str(BABEL_CFG), "-o", str(pot), str(ROOT)]
    )
    assert status in (None, 0), f"pybabel extract failed ({status})"
    catalogue = read_catalogue(pot)
    assert len(catalogue) > 100, "the extraction found almost nothing: is babel.cfg right?"
    return catalogue


def message_key(message: Message) -> tuple:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return (msgid, message.context)


def describe(message: Message) -> str:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    where = ", ".join(f"{Path(path).relative_to(ROOT) if Path(path).is_absolute() else path}:{line}"
                      for path, line in message.locations[:2])
    return f"{msgid!r} ({where})" if where else repr(msgid)


def problems_with(message: Message, translated: Message | None, num_plurals: int) -> list[str]:
    if translated is None:
        return ["missing from the catalogue (run `make messages`)"]
    if translated.fuzzy:
        return ["fuzzy: check the translation and remove the fuzzy flag"]
    if message.pluralizable != translated.pluralizable:
        return ["singular/plural does not match the template (run `make messages`)"]
    if message.pluralizable:
        english = message.id[0] + " " + message.id[1]
        forms = list(translated.string)
        if len(forms) != num_plurals:
            return [f"has {len(forms)} plural forms, the language has {num_plurals}"]
    else:
        english = message.id
        forms = [translated.string]
    problems = []
    for index, form in enumerate(forms):
        label = f"form [{index}]" if message.pluralizable else "translation"
        if not form or not form.strip():
            problems.append(f"{label} is empty")
            continue
        # Every plural form is used for many numbers (Russian form 0 serves 1, 21, 31 ...),
        # so each one keeps every placeholder of the English pair.
        expected = placeholders(english) if message.pluralizable else placeholders(message.id)
        if message.pluralizable:
            expected = Counter(set(expected))  # the pair names each placeholder twice
            got = Counter(set(placeholders(form)))
        else:
            got = placeholders(form)
        if got != expected:
            problems.append(
                f"{label} {form!r} has placeholders {sorted(got.elements())}, "
                f"the English {sorted(expected.elements())}"
            )
        if message.pluralizable:
            expected_tags = tags(message.id[1])
        else:
            expected_tags = tags(message.id)
        if tags(form) != expected_tags:
            problems.append(f"{label} {form!r} does not keep the HTML tags {sorted(expected_tags)}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(template, language):
    catalogue = read_catalogue(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    assert not catalogue.fuzzy, f"{language}: the header is marked fuzzy, so it would not compile"
    plural = get_plural(language)
    assert (catalogue.num_plurals, catalogue.plural_expr) == (plural.num_plurals, plural.plural_expr), (
        f"{language}: Plural-Forms should be nplurals={plural.num_plurals}; plural={plural.plural_expr}"
    )
    translations = {message_key(m): m for m in catalogue if m.id}
    report = []
    for message in template:
        if not message.id:
            continue
        for problem in problems_with(message, translations.get(message_key(message)), plural.num_plurals):
            report.append(f"{describe(message)}: {problem}")
    assert not report, f"{language}: {len(report)} problems:\n" + "\n".join(report[:60])


def test_the_checks_catch_a_broken_translation():
    """The placeholder and plural checks fail on the mistakes they exist for."""
    pair = Message(("extended %(num)d time", "extended %(num)d times"), locations=[("x.html", 1)])
    good = Message(pair.id, ("продлевали %(num)d раз", "продлевали %(num)d раза", "продлевали %(num)d раз"))
    assert problems_with(pair, good, 3) == []
    dropped = Message(pair.id, ("продлевали один раз", "продлевали %(num)d раза", "продлевали %(num)d раз"))
    assert "form [0]" in problems_with(pair, dropped, 3)[0]
    assert "plural forms" in problems_with(pair, Message(pair.id, ("раз", "раза")), 3)[0]
    single = Message("since %(day)s")
    assert problems_with(single, Message(single.id, "с %(date)s"), 3)
    assert problems_with(single, Message(single.id, "с %(day)s на 100%"), 3)  # stray % breaks formatting
    assert problems_with(single, Message(single.id, ""), 3) == ["translation is empty"]
    assert problems_with(single, None, 3)
    assert problems_with(single, Message(single.id, "с %(day)s", flags=["fuzzy"]), 3)
    linked = Message('See <a href="%(url)s">the list</a>.')
    assert problems_with(linked, Message(linked.id, "См. список: %(url)s."), 3)


def test_every_configured_language_has_a_catalogue():
    others = set(Config.LANGUAGES) - {SOURCE_LANGUAGE}
    assert others == set(CATALOGUES), (
        f"LANGUAGES lists {sorted(Config.LANGUAGES)}, the catalogues are {CATALOGUES}: "
        "`pybabel init -l <code>` starts one (docs/development.md)"
    )


def _babel_cfg() -> tuple[list, dict]:
    with BABEL_CFG.open() as f:
        return parse_mapping_cfg(f, str(BABEL_CFG))


def test_babel_cfg_covers_every_file_that_holds_text():
    method_map, _options = _babel_cfg()
    sources = [*(ROOT / "tracker").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")]
    sources += [p for p in (ROOT / "templates").rglob("*") if p.is_file()]
    missed = [
        str(p.relative_to(ROOT)) for p in sources
        if not any(pathmatch(pattern, p.relative_to(ROOT).as_posix()) for pattern, _method in method_map)
    ]
    assert not missed, f"babel.cfg extracts nothing from {missed}"


def test_every_translation_function_the_code_imports_is_an_extraction_keyword():
    """`from flask_babel import lazy_gettext as _l` only works if babel.cfg knows `_l`."""
    method_map, options = _babel_cfg()
    unknown = []
    for path in [*(ROOT / "tracker").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")]:
        relative = path.relative_to(ROOT).as_posix()
        keywords = set(DEFAULT_KEYWORDS)
        for pattern, _method in method_map:
            if pathmatch(pattern, relative):
                keywords |= set(options[pattern].get("keywords", {}))
                break
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                for alias in node.names:
                    name = alias.asname or alias.name
                    if alias.name in TRANSLATION_FUNCTIONS and name not in keywords:
                        unknown.append(f"{relative}:{node.lineno} {name}")
    assert not unknown, f"not extraction keywords in babel.cfg: {unknown}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_is_current(language):
    """The app reads the .mo, which is not in git: `make` builds it from the .po."""
    po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: `make translations` compiles it (make test does)"
    compiled = io.BytesIO()
    write_mo(compiled, read_catalogue(po))
    assert mo.read_bytes() == compiled.getvalue(), f"{mo} is older than its .po: run `make translations`"


def _tracker_global(name: str) -> dict:
    """A module-level table of the app, wherever the code layout puts it."""
    for info in pkgutil.walk_packages(tracker.__path__, "tracker."):
        module = importlib.import_module(info.name)
        if isinstance(getattr(module, name, None), dict):
            return getattr(module, name)
    raise LookupError(name)


def _spelling(text: str) -> str:
    return " ".join(str(text).casefold().replace("ё", "е").replace("_", " ").replace("-", " ").split())


@pytest.mark.parametrize("language", [SOURCE_LANGUAGE, *LANGUAGES])
def test_choice_labels_stay_distinct_in_every_language(app, language):
    """The spreadsheet import reads a choice back from its label in the reader's language
    (besides the groups' own words, CHOICE_WORDS): two members of one choice sharing a
    translation, or a translation that is another member's word, would import the wrong value."""
    labels, words = _tracker_global("LABELS"), _tracker_global("CHOICE_WORDS")
    clashes = []
    with force_locale(language):
        for enum_cls, by_value in labels.items():
            seen: dict[str, str] = {}
            for value, label in by_value.items():
                spelling = _spelling(label)
                if seen.get(spelling, value) != value:
                    clashes.append(f"{enum_cls.__name__}: {seen[spelling]} and {value} are both {str(label)!r}")
                seen[spelling] = value
                meant = {_spelling(w): v for w, v in words.get(enum_cls, {}).items()}.get(spelling, value)
                if meant != value:
                    clashes.append(f"{enum_cls.__name__}.{value} is {str(label)!r}, a word for {meant}")
    assert not clashes, "\n".join(clashes)


def test_a_russian_reader_gets_the_home_page_in_russian(client):
    english = "Defendants"
    with force_locale("ru"):
        russian = gettext(english)
    assert russian != english
    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert russian in page

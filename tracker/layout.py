"""The site's layout (templates/base.html) around every page, its fixed parts rendered once.

Every page's layout is the same few hundred bytes for everyone who reads it in the same
language: the stylesheet's links, the navigation, the footer. Rendering them through Jinja
(a dozen texts through the catalogue, the links, two includes) was ~0.3 ms of every page, a
third of an empty one (docs/rendering-floor.md). Here each part is rendered once per app and
what it depends on, and reused:

- `layout_head()`: the icon's and stylesheet's links (the mount point);
- `layout_header()`: the skip link, the navigation, the language switch's frame and the demo
  banner (the language, the mount point, whether the demo is loaded). The switch itself links
  back to the page being read, so it is written per request (`language_switch_html`) into
  its place. Someone logged in sees their own address and a logout form with their CSRF
  token in the navigation: their header is rendered for them every time, never kept;
- `layout_footer()`: the language.

The parts are plain templates (templates/layout/), so the HTML is what Jinja writes; a key
holds everything a part reads, and nothing a request carries is in a kept part. With
template auto-reload on (`make run`'s debug mode), nothing is kept: an edited template shows.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app, request
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from tracker.i18n import current_language, switch_links

PARTS_KEY = "layout_parts"
MAX_KEPT = 256  # languages x mount points x demo on/off: a handful; a bound all the same
SWITCH_MARK = "\x00language-switch\x00"  # where the per-request switch goes in a kept header


def language_switch_html() -> Markup:
    """The language switch's links, as base.html's loop wrote them: the current language a
    `<span>`, the others links back to this page in that language, separated by " · "."""
    items = []
    for choice in switch_links():
        code, name = escape(choice["code"]), escape(choice["name"])
        if choice["current"]:
            items.append(f'<span lang="{code}" aria-current="true">{name}</span>')
        else:
            items.append(f'<a href="{escape(choice["url"])}" lang="{code}" hreflang="{code}" '
                         f'rel="nofollow">{name}</a>')
    return Markup(" · ".join(items))


def _kept(key: tuple, render: Callable[[], object]) -> object:
    """The part under `key` in this app's store, rendered by `render()` the first time."""
    parts: dict = current_app.extensions.setdefault(PARTS_KEY, {})
    html = parts.get(key)
    if html is None:
        html = render()
        if not current_app.jinja_env.auto_reload:
            if len(parts) >= MAX_KEPT:
                parts.clear()
            parts[key] = html
    return html


def _render(context: Context, name: str, **overrides: object) -> str:
    """The part's template with the page's own context (as an `{% include %}` would see it)."""
    template = context.environment.get_template(f"layout/{name}.html")
    return template.render({**context.get_all(), **overrides})


@pass_context
def layout_head(context: Context) -> Markup:
    return Markup(_kept(("head", request.script_root), lambda: _render(context, "head")))


@pass_context
def layout_footer(context: Context) -> Markup:
    language = current_language()
    return Markup(_kept(("footer", language), lambda: _render(context, "footer")))


@pass_context
def layout_header(context: Context) -> Markup:
    """The header: kept for visitors, rendered for each request of someone logged in."""
    demo = bool(context["demo_mode"]())
    if current_user.is_authenticated:
        return Markup(_render(context, "header", demo_mode=lambda: demo))
    key = ("header", current_language(), request.script_root, demo)
    before, after = _kept(key, lambda: _split(_render(context, "header", demo_mode=lambda: demo,
                                                      language_switch_html=lambda: Markup(SWITCH_MARK))))
    return Markup(f"{before}{language_switch_html()}{after}")


def _split(header: str) -> tuple[str, str]:
    before, mark, after = header.partition(SWITCH_MARK)
    if not mark:
        raise RuntimeError("templates/layout/header.html has no language_switch_html()")
    return before, after


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(layout_head=layout_head, layout_header=layout_header, layout_footer=layout_footer,
                                 language_switch_html=language_switch_html)

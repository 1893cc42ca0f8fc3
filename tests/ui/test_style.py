"""User text is escaped wherever the app composes Markdown, HTML or URLs itself."""

from __future__ import annotations

import pytest

from panopticum_ui import style


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)>"),
        ("<script>alert(1)</script> **bold**", "&lt;script>alert(1)&lt;/script> **bold**"),
        ("use `List<String>` here", "use `List<String>` here"),  # code is shown verbatim anyway
        ("[x](javascript:alert(1))", "[x](#blocked:javascript:alert(1))"),
        ("[x](  JavaScript:alert(1))", "[x](  #blocked:JavaScript:alert(1))"),
        ("[x](&#106;avascript:alert(1))", "[x](#blocked:&#106;avascript:alert(1))"),
        ("[x]: javascript:alert(1)\n\n[x]", "[x]: #blocked:javascript:alert(1)\n\n[x]"),
        ("[docs](https://example.com/a)", "[docs](https://example.com/a)"),
    ],
)
def test_safe_markdown_keeps_markdown_but_never_html_or_script_links(raw: str, shown: str) -> None:
    assert style.safe_markdown(raw) == shown


def test_md_text_escapes_every_markdown_and_html_special() -> None:
    escaped = style.md_text("a*b _c_ [x](y) <b> :red[z] `k` # | ~ $")
    assert escaped == r"a\*b \_c\_ \[x\](y) \<b\> \:red\[z\] \`k\` \# \| \~ \$"
    assert style.md_text(None) == "" and style.md_text(float("nan")) == ""
    assert style.md_text("two\nlines") == "two lines"


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://git.example/x", "https://git.example/x"),
        ("mailto:team@example.com", "mailto:team@example.com"),
        ("javascript:alert(1)", None),
        ("  JAVASCRIPT:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("relative/path", None),
        (None, None),
    ],
)
def test_only_http_and_mailto_links_are_kept(url: str | None, safe: str | None) -> None:
    assert style.safe_url(url) == safe


def test_links_and_avatars_escape_their_text() -> None:
    assert (
        style.md_link("Repo [main]", "https://x.example/a (b)")
        == r"[Repo \[main\]](https://x.example/a%20%28b%29)"
    )
    assert style.md_link("bad", "javascript:alert(1)") == "bad"
    svg = style.initials_svg("<b>Eve</b> <script>")
    assert "<b>" not in svg and "<script>" not in svg and "&lt;" in svg
    assert style.initials("Jane van Doe") == "JV" and style.initials("") == "?"


def test_component_links_are_relative_and_encoded() -> None:
    assert style.component_href("Shipping & Fulfilment") == "component?name=Shipping%20%26%20Fulfilment"
    assert style.component_href("a/b", "1.0 beta") == "component?name=a%2Fb&version=1.0%20beta"


def test_status_marks_carry_a_symbol_and_a_word() -> None:
    for status in ("ready", "n/a", "waiting", "waiting_na", "not_ready", "unknown"):
        symbol, _, word = style.mark(status).partition(" ")
        assert symbol and word and style.mark_colour(style.mark(status)).startswith("color: #")
    assert style.mark(None) == "" and style.mark_colour("something else") == ""

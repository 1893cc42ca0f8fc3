"""How things look: a colour-blind-safe palette, status marks, stars, and the escaping of user text.

User text reaches the browser in three ways only: as DataFrame cells (drawn on a canvas: always
text), through :func:`md_text` (escaped Markdown for names and labels we compose), and through
:func:`safe_markdown` (the user's own Markdown, with raw HTML neutralised so it shows as text).
Nothing here uses ``unsafe_allow_html``; SVG we build escapes every piece of user text.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

# Okabe & Ito's palette: distinguishable with every common colour-vision deficiency.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#7F7F7F",
    "light_grey": "#BBBBBB",
}

# dark enough for white initials
AVATAR_COLOURS = tuple(
    OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange", "grey")
)

BAND_COLOURS = {
    "good": OKABE_ITO["bluish_green"],
    "medium": OKABE_ITO["orange"],
    "poor": OKABE_ITO["vermillion"],
    "no rating": OKABE_ITO["light_grey"],
}
BAND_LABELS = {"good": "good (≥ 80)", "medium": "medium (50–79)", "poor": "poor (< 50)"}

# Status -> (symbol, label, colour). The symbol and the word carry the meaning; colour only helps.
STATUS_MARKS: dict[str, tuple[str, str, str]] = {
    "ready": ("✔", "ready", OKABE_ITO["bluish_green"]),
    "n/a": ("–", "n/a", OKABE_ITO["grey"]),
    "waiting": ("◔", "waiting", OKABE_ITO["blue"]),
    "waiting_na": ("◔", "waiting (n/a)", OKABE_ITO["blue"]),
    "not_ready": ("✘", "not ready", OKABE_ITO["vermillion"]),
    "unknown": ("?", "unknown", OKABE_ITO["grey"]),
}
MARK_COLOURS = {f"{sym} {label}": colour for sym, label, colour in STATUS_MARKS.values()}
# Heat-maps need one colour per status (the marks above share grey and blue): n/a light grey,
# "nobody said" yellow, waiting for an n/a approval a lighter blue.
STATUS_COLOURS = {
    "ready": OKABE_ITO["bluish_green"],
    "n/a": OKABE_ITO["light_grey"],
    "waiting": OKABE_ITO["blue"],
    "waiting_na": OKABE_ITO["sky_blue"],
    "not_ready": OKABE_ITO["vermillion"],
    "unknown": OKABE_ITO["yellow"],
}

LEVEL_STARS = {
    "high": "★★★",
    "med": "★★☆",
    "low": "★☆☆",
    "none": "☆☆☆",
    "n/a": "n/a",
    "unknown": "?",
}

LINK_KINDS = {  # kind -> (label, material icon)
    "repository": ("Repository", ":material/code:"),
    "public_repository": ("Public repository", ":material/public:"),
    "api_spec": ("API spec", ":material/api:"),
    "docs": ("Docs", ":material/menu_book:"),
    "public_docs": ("Public docs", ":material/auto_stories:"),
    "issue_tracker": ("Issue tracker", ":material/bug_report:"),
    "build_job": ("Build job", ":material/build:"),
    "metrics": ("Metrics", ":material/monitoring:"),
    "logs": ("Logs", ":material/receipt_long:"),
}

_SAFE_SCHEMES = {"http", "https", "mailto"}
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"  # parentheses and spaces get encoded
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$:!])")
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.DOTALL)
# A link target (inline "](…" or a reference definition "[x]: …") that starts with a script-like
# scheme, or with an entity that could spell one.
_BAD_LINK = re.compile(
    r"(\]\(|^[ ]{0,3}\[[^\]\n]+\]:)(\s*(?:&lt;)?\s*)(?=javascript:|vbscript:|data:|file:|&#|&[a-z]+;)",
    re.IGNORECASE | re.MULTILINE,
)


def mark(status: object) -> str:
    """A status as a short mark, e.g. ``"✔ ready"``; empty for a missing status."""
    if not isinstance(status, str) or not status:
        return ""
    symbol, label, _ = STATUS_MARKS.get(status, ("", status, ""))
    return f"{symbol} {label}".strip()


def mark_colour(text: object) -> str:
    """CSS for a cell holding a :func:`mark` (for ``Styler.map``)."""
    colour = MARK_COLOURS.get(text) if isinstance(text, str) else None
    return f"color: {colour}; font-weight: 600" if colour else ""


def band_colour(band: object) -> str:
    return BAND_COLOURS.get(band if isinstance(band, str) else "no rating", BAND_COLOURS["no rating"])


def md_text(value: object) -> str:
    """User text to put inside Markdown we compose: every Markdown or HTML special is escaped, so
    it shows exactly as typed (no links, no formatting, no tags, no ``:directives:``)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def safe_markdown(text: object) -> str:
    """A user's Markdown, rendered as Markdown but never as HTML: ``<`` outside code becomes
    ``&lt;`` (raw tags show as text) and links to script-like schemes are neutralised."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    parts = _CODE.split(str(text))
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a code span or block: shown verbatim by the renderer
            out.append(part)
        else:
            out.append(_BAD_LINK.sub(r"\1\2#blocked:", part.replace("<", "&lt;")))
    return "".join(out)


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) or mailto link; None otherwise (never a script)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url


def md_link(label: str, url: object) -> str:
    """A Markdown link with an escaped label; just the escaped label when the URL is not safe."""
    safe = safe_url(url)
    if safe is None:
        return md_text(label)
    return f"[{md_text(label)}]({quote(safe, safe=_URL_SAFE)})"


def component_href(name: str, version: str | None = None) -> str:
    """Relative link to a component's page (works under any base URL path)."""
    query = f"name={quote(name, safe='')}"
    if version:
        query += f"&version={quote(version, safe='')}"
    return f"component?{query}"


def set_href(name: str) -> str:
    """Relative link to a requirement set's page."""
    return f"requirement_set?name={quote(name, safe='')}"


def md_page_link(label: str, href: str) -> str:
    """A Markdown link to one of our own pages (``component_href`` / ``set_href``: relative, quoted)."""
    return f"[{md_text(label)}]({href})"


def initials(name: str) -> str:
    words = [w for w in re.split(r"[\s._-]+", name or "") if w]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def initials_svg(name: str, *, size: int = 40) -> str:
    """A round avatar with the person's initials (every piece of text escaped)."""
    text = html.escape(initials(name))
    fill = AVATAR_COLOURS[sum(map(ord, name or "")) % len(AVATAR_COLOURS)]
    half = size // 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}"><circle cx="{half}" cy="{half}" r="{half}" fill="{fill}"/>'
        f'<text x="50%" y="50%" dy=".35em" text-anchor="middle" font-family="sans-serif" '
        f'font-size="{size * 0.4:.0f}" fill="#ffffff">{text}</text></svg>'
    )

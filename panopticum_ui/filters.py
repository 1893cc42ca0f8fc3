"""The components filters, bound to the URL query string so that a copied URL reopens the same view.

Each widget's key is its query parameter (``?q=pay&category=Commerce&category=Platform&band=poor``);
Streamlit's ``bind="query-params"`` keeps the two in step both ways. Changing a filter sends the
table back to page 1. The same widgets will serve the requirement-set pages.
"""

from __future__ import annotations

import streamlit as st

from panopticum_data.enums import LIFE_STATUS_LABELS, LIFE_STATUSES
from panopticum_data.queries import OverviewFilters

from .cached import FilterOptions
from .style import BAND_LABELS

BIND = "query-params"
PAGE_KEY = "page"
SIZE_KEY = "size"
PAGE_SIZES = (25, 50, 100)

QUERY_KEYS = {  # OverviewFilters field -> query parameter (= widget key)
    "text": "q",
    "categories": "category",
    "types": "type",
    "life_statuses": "life",
    "privacy_classes": "privacy",
    "products": "product",
    "locations": "location",
    "tags": "tag",
    "owners": "owner",
    "rating_bands": "band",
    "new_in_product": "new",
}
RATING_BANDS = ("good", "medium", "poor")


def back_to_first_page() -> None:
    """A widget callback: a changed filter sends the table back to its first page."""
    st.session_state[PAGE_KEY] = 1


def _multi(label: str, field: str, options: tuple[str, ...], **kwargs: object) -> tuple[str, ...]:
    chosen = st.multiselect(
        label,
        options,
        key=QUERY_KEYS[field],
        bind=BIND,
        on_change=back_to_first_page,
        placeholder="Any",
        **kwargs,  # type: ignore[arg-type]
    )
    return tuple(chosen)


def render_filters(options: FilterOptions) -> OverviewFilters:
    """Draw the filter widgets (three rows) and return what they select."""
    life_order = [s for s in LIFE_STATUSES if s in options.life_statuses]
    row = st.columns([2, 1, 1, 1])
    with row[0]:
        text = st.text_input(
            "Search",
            key=QUERY_KEYS["text"],
            bind=BIND,
            on_change=back_to_first_page,
            placeholder="Name, description or tag",
            icon=":material/search:",
        )
    with row[1]:
        categories = _multi("Category", "categories", options.categories)
    with row[2]:
        types = _multi("Type", "types", options.types)
    with row[3]:
        life = _multi(
            "Life status",
            "life_statuses",
            tuple(life_order),
            format_func=lambda s: LIFE_STATUS_LABELS.get(s, s),
        )
    row = st.columns(4)
    with row[0]:
        privacy = _multi("Privacy class", "privacy_classes", options.privacy_classes)
    with row[1]:
        products = _multi("Product", "products", options.products)
    with row[2]:
        locations = _multi("Location", "locations", options.locations)
    with row[3]:
        tags = _multi("Tag", "tags", options.tags)
    row = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    with row[0]:
        owners = _multi(  # usernames: they appear in the URL, and they do not change
            "Owner",
            "owners",
            options.owners,
            help="Usernames of anyone in an owner role (maintainer, QA, managers, experts, architects).",
        )
    with row[1]:
        bands = _multi(
            "Rating band",
            "rating_bands",
            RATING_BANDS,
            help="; ".join(BAND_LABELS.values()),
        )
    with row[2]:
        new_in_product = st.toggle(
            "New in product",
            key=QUERY_KEYS["new_in_product"],
            bind=BIND,
            on_change=back_to_first_page,
            help="Only components flagged as new in a product (in the chosen products, if any).",
        )
    return OverviewFilters(
        text=text or "",
        categories=categories,
        types=types,
        life_statuses=life,
        privacy_classes=privacy,
        products=products,
        locations=locations,
        tags=tags,
        owners=owners,
        rating_bands=bands,
        new_in_product=bool(new_in_product),
    )


def page_size_widget() -> int:
    size = st.segmented_control(
        "Rows per page",
        PAGE_SIZES,
        default=PAGE_SIZES[0],
        key=SIZE_KEY,
        bind=BIND,
        required=True,
        on_change=back_to_first_page,
    )
    return int(size or PAGE_SIZES[0])


def _requested(key: str, default: int) -> int:
    raw = st.session_state.get(key)
    if raw is None:  # first run of the session: the widget has not read the URL yet
        raw = st.query_params.get(key, default)
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return default


def requested_page() -> int:
    """The page asked for (URL or widget), before the pagination widget has clamped it."""
    return _requested(PAGE_KEY, 1)


def requested_size() -> int:
    size = _requested(SIZE_KEY, PAGE_SIZES[0])
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def page_widget(pages: int) -> int:
    return int(st.pagination(max(1, pages), key=PAGE_KEY, bind=BIND))

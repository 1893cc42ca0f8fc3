"""Waiting for me: /my_work[?set=<set>…][&older=<days>] — the claims awaiting the logged-in person's
verdict on the sets they sign, and what is missing, not ready or declined on the components they
own. Oldest first; each row links to the component and to the set's sign or claim grid."""

from __future__ import annotations

import streamlit as st

from panopticum_ui import auth, cached
from panopticum_ui import my_work as mw
from panopticum_ui.style import md_text

st.title("Waiting for me")
user = auth.current_user()
if user is None:  # the navigation offers this page to logged-in people only
    st.info("Log in to see what waits for you.", icon=":material/lock:")
    st.stop()

url, version = cached.key()
queues = mw.queues(url, version, user.username)

row = st.columns([3, 1])
chosen = row[0].multiselect(
    "Sets", queues.set_names(), key="set", bind="query-params", placeholder="All sets"
)
older = row[1].number_input(
    "Only older than (days)", min_value=0, step=1, key="older", bind="query-params", help="0 shows every item"
)
to_sign = mw.narrow(queues.to_sign, chosen, int(older))
mine = mw.narrow(queues.mine, chosen, int(older))

sign_tab, claim_tab = st.tabs([f"To sign ({len(to_sign):,})", f"My components ({len(mine):,})"])
with sign_tab:
    if not queues.signed_sets:
        st.info("You are not in a signer group, so no claim waits for your verdict.", icon=":material/draw:")
    else:
        st.caption(
            "Owner claims awaiting your verdict — none yet, or an expired one — on "
            + ", ".join(f"**{md_text(s)}**" for s in queues.signed_sets)
            + ". **Sign ↗** opens the set's sign-off grid at the component."
        )
        mw.show(to_sign, "sign", queues.set_names(), filtered=bool(chosen or older))
with claim_tab:
    if not queues.owned_components:
        st.info("You own no components, so no claim is yours to make.", icon=":material/deployed_code:")
    else:
        st.caption(
            f"Requirements missing a claim, not ready, or declined by a signee on the "
            f"{len(queues.owned_components):,} components you own. **Claim ↗** opens the set's claim grid."
        )
        mw.show(mine, "claim", queues.set_names(), filtered=bool(chosen or older))

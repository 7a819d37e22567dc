"""The pages a share link opens (``/shared/<token>``), for anyone holding the link.

They send ``Cache-Control: private, no-store`` (no shared cache keeps a copy),
``Referrer-Policy: no-referrer`` (the token in the address never leaks to another site) and
``X-Robots-Tag: noindex``. An unknown token gets 404 and an expired or revoked one 410, both
with the same short page that says nothing else.
"""

from __future__ import annotations

from flask import make_response, render_template

from academy.portfolio.evidence_store import path_for, send_evidence
from academy.portfolio.models import METHODS
from academy.portfolio.sharing import services as sharing
from academy.portfolio.sharing.common import bp

PUBLIC_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _public(response):
    response.headers.update(PUBLIC_HEADERS)
    return response


def _unavailable(error: sharing.LinkUnavailable):
    page = render_template("portfolio/sharing/shared_unavailable.html")
    return _public(make_response((page, 410 if error.gone else 404)))


@bp.get("/shared/<token>")
def shared(token: str):
    try:
        portfolio = sharing.open_link(token)
    except sharing.LinkUnavailable as error:
        return _unavailable(error)
    page = render_template(
        "portfolio/sharing/shared.html",
        portfolio=portfolio,
        token=token,
        methods=METHODS,
    )
    return _public(make_response(page))


@bp.get("/shared/<token>/evidence/<int:evidence_id>")
def shared_evidence(token: str, evidence_id: int):
    try:
        evidence = sharing.shared_evidence(token, evidence_id)
    except sharing.LinkUnavailable as error:
        return _unavailable(error)
    if not path_for(evidence).is_file():  # the row outlived its file: say so, never a 500
        return _unavailable(sharing.LinkUnavailable(gone=False))
    return _public(send_evidence(evidence))

"""Share links: the learner's list and form (``/portfolio/share``), revoking one, and the public
pages a link opens (``/shared/<token>``).

Public pages send ``Cache-Control: private, no-store`` (no shared cache keeps a copy),
``Referrer-Policy: no-referrer`` (the token in the address never leaks to another site) and
``X-Robots-Tag: noindex``. An unknown token gets 404 and an expired or revoked one 410, both
with the same short page that says nothing else.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required

from academy.enrolment.forms import EmptyForm
from academy.extensions import db
from academy.portfolio import sharing
from academy.portfolio.evidence_store import path_for, send_evidence
from academy.portfolio.models import METHODS
from academy.portfolio.sharing_forms import ShareLinkForm

bp = Blueprint("portfolio_sharing", __name__)

#: the session key that carries a new link to the page after the redirect, to be shown once
_NEW_LINK = "portfolio_sharing.new_link"

PUBLIC_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _public(response):
    response.headers.update(PUBLIC_HEADERS)
    return response


@bp.route("/portfolio/share", methods=["GET", "POST"])
@login_required
def links():
    entries = sharing.shareable_entries(current_user)
    form = ShareLinkForm(entries)
    problem = None
    if form.validate_on_submit():
        try:
            link, token = sharing.create_link(
                current_user,
                form.entries.data,
                label=form.label.data,
                expires_on=form.expires_on.data,
            )
        except sharing.ShareError as error:
            db.session.rollback()
            problem = error.message
        else:
            db.session.commit()
            session[_NEW_LINK] = {
                "id": link.id,
                "url": url_for(".shared", token=token, _external=True),
            }
            return redirect(url_for(".links"), code=303)
    new_link = session.pop(_NEW_LINK, None) if not form.is_submitted() else None
    response = render_template(
        "portfolio/share_links.html",
        form=form,
        entries=entries,
        rows=sharing.links_for(current_user),
        new_link=new_link,
        problem=problem,
        add_entry_url=(
            url_for("portfolio.entries")
            if "portfolio.entries" in current_app.view_functions
            else None
        ),
    )
    status = 422 if (form.errors or problem) else 200
    # the page may hold a link's full address: keep it out of every cache
    return response, status, {"Cache-Control": "private, no-store"}


def _own_link_or_404(link_id: int):
    link = sharing.get_own_link(current_user, link_id)
    if link is None:
        abort(404)
    return link


@bp.route("/portfolio/share/<int:link_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(link_id: int):
    link = _own_link_or_404(link_id)
    form = EmptyForm()
    if form.validate_on_submit():
        if sharing.revoke(link):
            db.session.commit()
            flash(f"The link “{link.label}” no longer works.", "success")
        else:
            flash(f"The link “{link.label}” was already revoked.", "info")
        return redirect(url_for(".links"), code=303)
    return render_template(
        "portfolio/share_revoke.html",
        link=link,
        form=form,
        status=sharing.status_of(link),
    )


def _unavailable(error: sharing.LinkUnavailable):
    page = render_template("portfolio/shared_unavailable.html")
    return _public(make_response((page, 410 if error.gone else 404)))


@bp.get("/shared/<token>")
def shared(token: str):
    try:
        portfolio = sharing.open_link(token)
    except sharing.LinkUnavailable as error:
        return _unavailable(error)
    page = render_template(
        "portfolio/shared.html",
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

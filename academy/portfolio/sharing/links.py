"""The learner's share links (``/portfolio/share``): the list, the form that makes one, and
revoking one. A new link's full address is shown once, right after it is made."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required

from academy.forms import EmptyForm
from academy.portfolio.sharing import services as sharing
from academy.portfolio.sharing.common import bp
from academy.portfolio.sharing.forms import ShareLinkForm
from academy.unit_of_work import attempt

#: the session key that carries a new link to the page after the redirect, to be shown once
_NEW_LINK = "portfolio_sharing.new_link"


@bp.route("/portfolio/share", methods=["GET", "POST"])
@login_required
def links():
    entries = sharing.shareable_entries(current_user)
    form = ShareLinkForm(entries)
    if form.validate_on_submit():
        with attempt(form):
            link, token = sharing.create_link(
                current_user,
                form.entries.data,
                label=form.label.data,
                expires_on=form.expires_on.data,
            )
            session[_NEW_LINK] = {
                "id": link.id,
                "url": url_for(".shared", token=token, _external=True),
            }
            return redirect(url_for(".links"), code=303)
    new_link = session.pop(_NEW_LINK, None) if not form.is_submitted() else None
    page = render_template(
        "portfolio/sharing/share_links.html",
        form=form,
        entries=entries,
        rows=sharing.links_for(current_user),
        new_link=new_link,
        add_entry_url=url_for("portfolio.entries"),
    )
    # the page may hold a link's full address: keep it out of every cache
    return page, 422 if form.errors else 200, {"Cache-Control": "private, no-store"}


def _own_link_or_404(link_id: int):
    link = sharing.get_own_link(current_user, link_id)
    if link is None:
        abort(404)
    return link


@bp.route("/portfolio/share/<int:link_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(link_id: int):
    """Ask first (GET), then stop the link working (POST)."""
    link = _own_link_or_404(link_id)
    form = EmptyForm()
    if form.validate_on_submit():
        if sharing.revoke(link):
            flash(f"The link “{link.label}” no longer works.", "success")
        else:
            flash(f"The link “{link.label}” was already revoked.", "info")
        return redirect(url_for(".links"), code=303)
    return render_template(
        "portfolio/sharing/share_revoke.html",
        link=link,
        form=form,
        status=sharing.status_of(link),
    )

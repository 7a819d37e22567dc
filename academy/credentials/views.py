"""Public pages: the issuer Profile, the public keys, a credential's page and status, and the
verifier. Nothing here needs an account, and nothing here shows an email address."""

from __future__ import annotations

import jwt
from flask import Blueprint, abort, jsonify, render_template

from academy.credentials import jws, keys, openbadges
from academy.credentials.forms import VerifyForm
from academy.credentials.urls import absolute, issuer_id
from academy.credentials.verify import verify as verify_credential

bp = Blueprint("credentials", __name__, url_prefix="/credentials")


def _json(data: dict, content_type: str = "application/json"):
    response = jsonify(data)
    response.headers["Content-Type"] = content_type
    response.headers["Access-Control-Allow-Origin"] = "*"  # public documents for verifiers
    return response


@bp.get("/issuer")
def issuer():
    """The Academy's issuer Profile (JSON-LD)."""
    profile = {"@context": [openbadges.VC_CONTEXT, openbadges.OB_CONTEXT]}
    profile.update(openbadges.issuer_profile())
    profile["jwks"] = absolute("credentials.jwks")
    return _json(profile, "application/ld+json")


@bp.get("/keys.json")
def jwks():
    """The public keys that verify the Academy's credentials (a JWKS; never a private key)."""
    return _json(keys.jwks(), "application/jwk-set+json")


@bp.get("/status/<public_id>")
def status(public_id: str):
    """The 1EdTech revocation list for one credential: empty while it stands."""
    record = openbadges.find(public_id)
    if record is None:
        abort(404)
    revoked = []
    if record.revoked_at is not None:
        revoked.append(
            {
                "id": f"urn:uuid:{record.public_id}",
                "revocationReason": record.revocation_reason,
                "revokedAt": openbadges.iso(record.revoked_at),
            }
        )
    return _json(
        {
            "id": absolute("credentials.status", public_id=public_id),
            "type": "1EdTechRevocationList",
            "issuer": issuer_id(),
            "revokedCredentials": revoked,
        }
    )


@bp.get("/<public_id>")
def credential(public_id: str):
    """A credential's public page: valid or revoked, and what it certifies."""
    record = openbadges.find(public_id)
    if record is None:
        abort(404)
    content = None
    if record.signed:
        try:
            content = jws.read_trusted(record.signed)
        except (jwt.PyJWTError, ValueError):  # a key removed by hand: show the status alone
            content = None
    return render_template(
        "credentials/credential.html",
        record=record,
        content=content,
        achievement=(content or {}).get("credentialSubject", {}).get("achievement"),
    )


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Paste or upload a credential; the answer is valid, revoked (why, when) or not valid."""
    form = VerifyForm()
    verdict = None
    status = 200
    if form.is_submitted():
        text = form.submitted_text() if form.validate() else None
        if text is None:
            status = 422
        else:
            verdict = verify_credential(text)
    return render_template("credentials/verify.html", form=form, verdict=verdict), status

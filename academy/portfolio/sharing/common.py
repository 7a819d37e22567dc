"""The blueprint the share-link screens add their routes to."""

from flask import Blueprint

bp = Blueprint("portfolio_sharing", __name__)

"""The refusals accounts make; each message is fit to show the person who asked."""

from __future__ import annotations

from academy.unit_of_work import DomainError


class AccountError(DomainError):
    """A refusal with a message fit to show the person who asked."""


class LoginThrottled(AccountError):
    status = 429


class InvalidCredentials(AccountError):
    pass


class EmailNotConfirmed(AccountError):
    pass


class InvalidToken(AccountError):
    """An emailed link that is unknown, used, expired or outdated."""

    status = 400


class WrongPassword(AccountError):
    pass

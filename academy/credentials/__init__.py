"""Credentials the Academy issues and anyone may verify: signing keys, Open Badges 3.0
credentials for verified portfolio entries, the learner's CLR 2.0 bundle, revocation, and the
public issuer, key and verification pages.

The Academy is the issuer, so everything here is a public concern: the learner's own pages
(issue, download, revoke) live in ``academy.portfolio`` and call these functions.
"""

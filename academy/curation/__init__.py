"""Curators: the review queue, provider verification, the taxonomy and the audit log."""

"""Bulk import of courses from the CSV template (the core behind the CLI and, later, web upload)."""

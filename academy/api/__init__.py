"""The read API (``/api/v1``): courses as JSON, with the same filters as ``/courses``."""

"""Fixtures of the integration tests. Serving the app (``serve``, ``Running``) lives in
tests/helpers.py with the other shared helpers; the names stay importable from here too."""

from tests.helpers import Running, serve

__all__ = ["Running", "serve"]

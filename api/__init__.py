"""The web layer: JSON API under /api, HTML pages, static files. Only translates HTTP."""

from api.app import create_app
from api.security import InsecureConfiguration

__all__ = ["InsecureConfiguration", "create_app"]

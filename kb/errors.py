"""The one error tree of the knowledge base.

    KBError                 any error the knowledge base reports on purpose
    ├── NotFound            no document with that id
    ├── InvalidInput        a query, filter or argument that cannot be used
    ├── TooLarge            over a named bound (file size, pages, query length…)
    ├── UnsupportedDocument a file that cannot be read (corrupt, encrypted, not what it claims)
    ├── ModelMismatch       the index was built with another embedding model: run `kb reindex`
    └── Unauthorized        a write without a valid API key

The command line prints one line and exits 1; the API maps each to a 4xx status.
"""

from __future__ import annotations


class KBError(Exception):
    """Base class of every error the knowledge base raises on purpose."""


class NotFound(KBError):
    pass


class InvalidInput(KBError):
    pass


class TooLarge(KBError):
    pass


class UnsupportedDocument(KBError):
    pass


class ModelMismatch(KBError):
    pass


class Unauthorized(KBError):
    pass

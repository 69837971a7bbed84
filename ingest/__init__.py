"""Files → documents: readers per format, metadata, chunking and the ingest run.

    from ingest import ingest_paths
    report = ingest_paths(kb, [Path("corpus")], prune=True)
    report.counts()   # {"added": 12, "updated": 0, "unchanged": 3, ...}

`ingest` talks to the knowledge base only through `kb`'s public names.
"""

from .chunking import chunk_blocks, estimate_tokens
from .parsed import Block, ParsedDocument
from .readers import read_document
from .report import STATUSES, FileOutcome, IngestReport, Progress
from .run import ingest_paths, ingest_upload

__all__ = [
    "STATUSES",
    "Block",
    "FileOutcome",
    "IngestReport",
    "ParsedDocument",
    "Progress",
    "chunk_blocks",
    "estimate_tokens",
    "ingest_paths",
    "ingest_upload",
    "read_document",
]

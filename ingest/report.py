"""What an ingest run did, file by file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

Status = Literal["added", "updated", "unchanged", "duplicate", "rejected", "removed"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "duplicate", "rejected", "removed")

Progress = Callable[[str, int], None]
"""`progress(name, chunks_done)`: called after each file (and after each batch of a
.jsonl file) with the file's name as reported and the number of chunks indexed so far
in this run."""


@dataclass
class FileOutcome:
    """One file's outcome; `reason` says why for rejected/duplicate and carries notes."""

    name: str
    status: Status
    reason: str | None = None
    document_id: str | None = None
    chunks: int = 0


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        """Outcomes per status, every status present (zero included), in a fixed order."""
        counts = dict.fromkeys(STATUSES, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts

    @property
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))

    def outcome(self, name: str) -> FileOutcome:
        """The outcome of the file reported as `name` (KeyError if none)."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(name)


_STYLES = {"added": "green", "updated": "cyan", "unchanged": "dim", "duplicate": "yellow",
           "rejected": "bold red", "removed": "magenta"}


def print_report(console: Console, report: IngestReport) -> None:
    """A table of the files that changed something or need attention, then the counts."""
    table = Table(show_header=True, header_style="bold", box=None)
    for column in ("status", "file", "chunks", "reason"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        if o.status != "unchanged":
            table.add_row(Text(o.status, style=_STYLES[o.status]), Text(o.name),
                          str(o.chunks or ""), Text(o.reason or ""))
    if table.row_count:
        console.print(table)
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
    prefix = "dry run, nothing written: " if report.dry_run else ""
    console.print(f"{prefix}{counts or 'nothing to ingest'}", highlight=False, markup=False)


@contextmanager
def progress_bar(console: Console) -> Iterator[Progress]:
    """A spinner showing the file being read and the chunks indexed so far."""
    with RichProgress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True,
    ) as bar:
        task = bar.add_task("ingesting…")

        def progress(name: str, chunks_done: int) -> None:
            bar.update(task, description=f"{chunks_done} chunks · {escape(name)}")

        yield progress

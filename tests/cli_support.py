"""A small trip folder and a way to run `kb` on it, shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from cli.main import main

TRIPS = {
    "2022-copenhague": "name: Copenhague 2022\ncity: Copenhague\ncountry: Danemark\n"
    "start: 2022-05-16\nend: 2022-05-20\n",
    "2025-barcelone": "name: Barcelone 2025\ncity: Barcelone\ncountry: Espagne\n"
    "start: 2025-04-07\nend: 2025-04-11\n",
}

NOTES = {
    "2022-copenhague/atelier-financement.md": (
        "Financer une SCIC", "workshop-notes", "fr", "funding", "Le prêt patient",
        "Le fonds danois prête aux coopératives sans exiger de fonds propres : le "
        "remboursement commence après deux ans.",
    ),
    "2022-copenhague/fiche-reemploi.md": (
        "Réemploi des matériaux", "practice-sheet", "fr", "circular-economy", "Contexte",
        "Un centre de réemploi récupère portes, fenêtres et briques sur les chantiers.",
    ),
    "2025-barcelone/inclusion.md": (
        "Social inclusion workshop", "workshop-notes", "en", "inclusion", "Jobs",
        "Social enterprises hire long-term unemployed people through procurement clauses.",
    ),
}

FINANCING = "2022-copenhague--atelier-financement.md"
REUSE = "2022-copenhague--fiche-reemploi.md"
INCLUSION = "2025-barcelone--inclusion.md"


def write_corpus(folder: Path) -> Path:
    """Two trips, three Markdown notes (one passage each); returns `folder`."""
    for slug, trip in TRIPS.items():
        (folder / slug).mkdir(parents=True, exist_ok=True)
        (folder / slug / "trip.yaml").write_text(trip, encoding="utf-8")
    for name, (title, kind, language, theme, heading, text) in NOTES.items():
        (folder / name).write_text(
            f"---\ntitle: {title}\nkind: {kind}\nlanguage: {language}\nthemes: [{theme}]\n---\n\n"
            f"# {title}\n\n## {heading}\n\n{text}\n",
            encoding="utf-8",
        )
    return folder


def kb(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """`kb ARGS` on the base in `home` with the tiny encoder, both given as KB_* settings."""
    settings = {"KB_HOME": str(home), "KB_MODEL": "tiny", **(env or {})}
    return CliRunner().invoke(main, list(args), env=settings)


def error_line(result: Result) -> str:
    """The one line a failed command prints (exit 1), without its `error: ` prefix."""
    lines = result.stderr.splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


def usage_error(result: Result) -> str:
    """The last line of click's usage error (exit 2)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr.strip().splitlines()[-1]


def stdout_of(result: Result) -> str:
    """What a command that succeeded printed."""
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout

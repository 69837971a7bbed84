"""Settings as a new user writes them: lists as JSON or commas, one clear line per error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli.main import main
from kb import Settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("my-secret", ["my-secret"]),
        ('["k1", "k2"]', ["k1", "k2"]),
        ("k1, k2", ["k1", "k2"]),
        ("", []),
    ],
)
def test_a_list_setting_is_json_or_comma_separated(monkeypatch, value, expected):
    monkeypatch.setenv("KB_API_KEYS", value)
    assert Settings().api_keys == expected


def test_one_origin_needs_no_json(monkeypatch):
    monkeypatch.setenv("KB_CORS_ORIGINS", "https://site.example")
    assert Settings().cors_origins == ["https://site.example"]


def test_every_invalid_setting_is_one_line_naming_it_and_exit_code_2(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_PORT", "eighty")
    monkeypatch.setenv("KB_API_KEYS", '["unclosed"')
    monkeypatch.setenv("KB_FUSION", "mean")
    monkeypatch.setenv("KB_TRUSTED_PROXIES", "proxy.example")
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "stats"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4
    assert "Traceback" not in result.output
    by_name = {line.split("=")[0].removeprefix("error: "): line for line in lines}
    assert "'eighty'" in by_name["KB_PORT"] and "integer" in by_name["KB_PORT"]
    assert "JSON list or comma-separated" in by_name["KB_API_KEYS"]
    assert "'score' or 'rrf'" in by_name["KB_FUSION"]
    assert "not an IP address or network" in by_name["KB_TRUSTED_PROXIES"]

from pathlib import Path

import pytest

from kb import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name):
    assert f"`KB_{name.upper()}`" in README


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KB_MAX_LIMIT", "7")
    monkeypatch.setenv("KB_API_KEYS", '["k1", "k2"]')
    settings = Settings()
    assert settings.max_limit == 7 and settings.api_keys == ["k1", "k2"]


def test_public_surface_is_explicit():
    import kb

    assert len(set(kb.__all__)) == len(kb.__all__)
    for name in kb.__all__:
        assert hasattr(kb, name), name

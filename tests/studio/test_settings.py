"""Settings: versioned, atomic, and a damaged or foreign file never costs the user anything."""

import json

import pytest

from studio import settings as st


def test_round_trip(tmp_path):
    path = tmp_path / "settings.json"
    s = st.Settings(text="Bonjour", device="cpu", sampler={"steps": 4})
    st.save(s, path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == st.SCHEMA_VERSION
    loaded = st.load(path)
    assert loaded.settings == s and loaded.message == ""


def test_default_location_is_under_the_platform_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert st.settings_path() == tmp_path / "timbre-studio" / "settings.json"
    assert st.load().settings == st.Settings()  # no file yet: defaults, no message


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b""])
def test_damaged_file_is_set_aside_and_defaults_are_used(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    loaded = st.load(path)
    assert loaded.settings == st.Settings()
    assert "damaged" in loaded.message
    kept = list(tmp_path.glob("settings.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content  # the user's file is not lost
    assert not path.exists()


def test_wrong_types_and_unknown_keys_fall_back_per_field(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "text": 42, "device": "cpu", "colour": "red",
                                "model": "tiny-random"}))
    s = st.load(path).settings
    assert s.text == st.DEFAULT_TEXT and s.device == "cpu" and s.model == "tiny-random"


def test_newer_schema_keeps_what_it_understands_and_says_so(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": st.SCHEMA_VERSION + 5, "text": "hi", "future": True}))
    loaded = st.load(path)
    assert loaded.settings.text == "hi" and "newer" in loaded.message


def test_migrations_run_in_order_from_the_file_version(tmp_path, monkeypatch):
    monkeypatch.setattr(st, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(st, "MIGRATIONS", {
        1: lambda d: {**d, "text": d.pop("script")},
        2: lambda d: {**d, "device": d["device"].lower()},
    })
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "script": "old text", "device": "CPU"}))
    s = st.load(path).settings
    assert s.text == "old text" and s.device == "cpu"


def test_a_save_that_fails_half_way_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    st.save(st.Settings(text="first"), path)
    before = path.read_bytes()

    def crash(target, text):
        from engine.atomic import atomic_path

        with atomic_path(target) as tmp:
            tmp.write_text(text[: len(text) // 2])
            raise OSError("disk full")

    monkeypatch.setattr(st, "write_text_atomic", crash)
    with pytest.raises(OSError, match="disk full"):
        st.save(st.Settings(text="second"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left

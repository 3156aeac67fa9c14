"""The voice library: user, built-in and family presets; search, edit, variants, trash, previews."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from test_voice_presets import RATE, make_codes, make_preset, make_reference

from engine.api import VoiceInfo
from engine.bundled import assets_dir
from engine.model_files import file_hash, read_config
from engine.voices.library import VoiceLibrary, slugify
from engine.voices.preset import Consent, PresetError, read_preset, read_reference, write_preset


@pytest.fixture
def lib(tmp_path) -> VoiceLibrary:
    """A library with one built-in ("Studio Narrator") and two user presets ("Ava Warm", "Bo Bright")."""
    builtin = tmp_path / "builtin"
    narrator = make_preset("Studio Narrator", brand="Timbre", language="de", description="Calm news reader",
                           tags=("news",), consent=None)
    write_preset(builtin / "studio-narrator", narrator, make_codes(seed=9), make_reference(), RATE)
    library = VoiceLibrary(tmp_path / "voices", builtin_dirs=[builtin])
    _create(library, "Ava Warm")
    _create(library, "Bo Bright", description="Bright promo voice", language="en-GB", tags=["promo"],
            brand="Globex", family="voxtral")
    return library


def _create(library: VoiceLibrary, name: str, *, family: str = "timbre", seed: int = 0, **meta):
    fields = make_preset(name, **meta)
    meta = {k: getattr(fields, k) for k in ("description", "language", "tags", "brand", "consent", "params",
                                            "transcript")}
    return library.create(name, make_codes(seed=seed), make_reference(seed=seed), RATE, family=family,
                          model_hash="c7ffc63168bf175f", **meta)


def _ids(presets) -> list[str]:
    return [p.id for p in presets]


def test_listing_has_user_and_builtin_presets(lib, tmp_path):
    presets = lib.presets()
    assert _ids(presets) == ["ava-warm", "bo-bright", "studio-narrator"]
    assert [p.origin for p in presets] == ["user", "user", "builtin"]
    assert presets[2].read_only and not presets[0].read_only
    assert not presets[2].has_consent and presets[0].has_consent
    assert (tmp_path / "voices" / "ava-warm" / "voice.json").is_file()
    assert lib.problems == ()


def test_ids_are_unique_slugs_of_the_name(lib):
    assert _create(lib, "Ava Warm").id == "ava-warm-2"
    assert _create(lib, "Studio Narrator").id == "studio-narrator-2"  # a built-in's id is taken too
    assert slugify("Zoë  &  Ünal — Ad Read!") == "zoe-unal-ad-read"
    assert slugify("???") == "voice"


@pytest.mark.parametrize("query, ids", [
    ({"text": "WARM"}, ["ava-warm"]),
    ({"text": "promo"}, ["bo-bright"]),  # a tag and the description
    ({"text": "globex bright"}, ["bo-bright"]),  # every word, anywhere
    ({"text": "acme promo"}, []),
    ({"text": "acme"}, ["ava-warm"]),  # brand
    ({"language": "en"}, ["ava-warm", "bo-bright"]),  # en matches en-US and en-GB
    ({"language": "EN-us"}, ["ava-warm"]),
    ({"tag": "News"}, ["studio-narrator"]),
    ({"brand": "timbre"}, ["studio-narrator"]),
    ({"family": "voxtral"}, ["bo-bright"]),
    ({"text": "a", "family": "timbre", "language": "de"}, ["studio-narrator"]),
])
def test_search_and_filters(lib, query, ids):
    assert _ids(lib.search(**query)) == ids


def test_get_and_prompt(lib):
    assert lib.get("bo-bright").brand == "Globex"
    assert np.array_equal(lib.prompt("studio-narrator"), make_codes(seed=9))
    with pytest.raises(PresetError, match="no voice preset 'nope' .*ava-warm, bo-bright, studio-narrator"):
        lib.get("nope")


def test_update_changes_metadata_on_disk(lib, tmp_path):
    before = lib.get("ava-warm")
    consent = Consent("Ava Example", "Renewed for 2026.", "2026-01-05", "recorded statement")
    after = lib.update("ava-warm", name="Ava Calm", tags=["calm"], consent=consent, params={"steps": 12})
    assert (after.name, after.tags, after.consent, after.params) == ("Ava Calm", ("calm",), consent, {"steps": 12})
    assert after.created == before.created and after.modified >= before.modified
    assert VoiceLibrary(tmp_path / "voices", builtin_dirs=[]).get("ava-warm") == after  # on disk, same id
    assert np.array_equal(lib.prompt("ava-warm"), make_codes(seed=0))


def test_update_refuses_bad_fields_and_keeps_the_file(lib):
    path = lib.get("ava-warm").folder / "voice.json"
    before = path.read_bytes()
    with pytest.raises(PresetError, match="cannot set family"):
        lib.update("ava-warm", family="voxtral")
    with pytest.raises(PresetError, match="params.*steps must be a whole number from 1 to 32"):
        lib.update("ava-warm", params={"steps": 0})
    with pytest.raises(PresetError, match="name is empty"):
        lib.update("ava-warm", name="")
    with pytest.raises(PresetError, match="tags must be a list"):
        lib.update("ava-warm", tags="warm")
    assert path.read_bytes() == before


def test_read_only_presets_refuse_changes(lib):
    for change in (lambda: lib.update("studio-narrator", name="Mine"), lambda: lib.delete("studio-narrator")):
        with pytest.raises(PresetError, match="'Studio Narrator' is a built-in preset .*duplicate it"):
            change()
    assert lib.get("studio-narrator").name == "Studio Narrator"


def test_duplicate_makes_an_editable_variant(lib):
    variant = lib.duplicate("studio-narrator", "My Narrator")
    source = lib.get("studio-narrator")
    assert (variant.id, variant.origin, variant.name) == ("my-narrator", "user", "My Narrator")
    assert (variant.family, variant.model_hash, variant.tags) == (source.family, source.model_hash, source.tags)
    assert np.array_equal(lib.prompt("my-narrator"), lib.prompt("studio-narrator"))
    assert (variant.folder / "reference.flac").read_bytes() == (source.folder / "reference.flac").read_bytes()
    assert lib.update("my-narrator", brand="Mine").brand == "Mine"
    assert lib.duplicate("my-narrator", "My Narrator").id == "my-narrator-2"


def test_delete_to_trash_and_restore(lib, tmp_path):
    codes = lib.prompt("ava-warm")
    entry = lib.delete("ava-warm")
    assert (entry.id, entry.name) == ("ava-warm", "Ava Warm")
    assert entry.folder.parent == tmp_path / "voices" / ".trash" and entry.folder.is_dir()
    assert "ava-warm" not in _ids(lib.presets()) and lib.problems == ()
    assert lib.trash() == [entry]  # found again from disk (another process can restore it)
    restored = lib.restore(entry)
    assert restored.id == "ava-warm" and np.array_equal(lib.prompt("ava-warm"), codes)
    assert lib.trash() == []
    with pytest.raises(PresetError, match="no longer in the trash"):
        lib.restore(entry)


def test_restore_gets_a_fresh_id_when_the_old_one_was_taken(lib):
    entry = lib.delete("ava-warm")
    _create(lib, "Ava Warm", seed=5)
    restored = lib.restore(entry)
    assert restored.id == "ava-warm-2" and restored.name == "Ava Warm"
    assert np.array_equal(lib.prompt("ava-warm-2"), make_codes(seed=0))
    assert np.array_equal(lib.prompt("ava-warm"), make_codes(seed=5))


def test_preview_cache_follows_the_preset(lib, tmp_path):
    path = lib.preview_path("ava-warm", "tiny-random|Hello world|steps=8")
    assert path.parent.is_dir() and path.is_relative_to(tmp_path / "voices" / ".previews")
    assert lib.preview_path("ava-warm", "tiny-random|Hello world|steps=8") == path
    assert lib.preview_path("ava-warm", "tiny-random|Hello world|steps=4") != path
    assert lib.preview_path("bo-bright", "tiny-random|Hello world|steps=8") != path
    path.write_bytes(b"rendered")
    lib.update("ava-warm", description="changed")
    assert not path.exists()
    assert lib.preview_path("ava-warm", "tiny-random|Hello world|steps=8") != path  # even within the same second
    assert _ids(lib.presets()) == ["ava-warm", "bo-bright", "studio-narrator"]  # the cache is no preset
    assert lib.problems == ()


def test_family_voices_are_read_only_presets_without_a_prompt(lib):
    lib.add_family_voices("voxtral", [VoiceInfo("casual_male", "en", "male"), VoiceInfo("neutral_female", "fr",
                                                                                         "female", "calm")])
    voice = lib.get("voxtral:neutral_female")
    assert (voice.origin, voice.read_only, voice.voice_ref, voice.language, voice.tags, voice.folder) == \
        ("family", True, "neutral_female", "fr", ("female", "calm"), None)
    assert _ids(lib.search(family="voxtral", tag="male")) == ["voxtral:casual_male"]
    with pytest.raises(PresetError, match="released voice of the voxtral model; it has no prompt"):
        lib.prompt("voxtral:casual_male")
    with pytest.raises(PresetError, match="cannot be changed"):
        lib.update("voxtral:casual_male", name="x")
    with pytest.raises(PresetError, match="no prompt to copy"):
        lib.duplicate("voxtral:casual_male", "x")
    lib.add_family_voices("voxtral", [VoiceInfo("other")])  # another model of the family replaces them
    assert _ids(lib.search(family="voxtral")) == ["bo-bright", "voxtral:other"]


def test_broken_folders_are_skipped_and_listed(lib, tmp_path):
    voices = tmp_path / "voices"
    (voices / "empty").mkdir()
    broken = voices / "broken"
    broken.mkdir()
    for name in ("prompt.safetensors", "reference.flac"):
        (broken / name).write_bytes((voices / "ava-warm" / name).read_bytes())
    (broken / "voice.json").write_text(json.dumps({"format_version": 1, "name": "Broken"}))
    (voices / "notes.txt").write_text("not a preset")
    assert _ids(lib.presets()) == ["ava-warm", "bo-bright", "studio-narrator"]
    problems = {p.folder.name: p.message for p in lib.problems}
    assert set(problems) == {"broken", "empty"}
    assert "missing field(s) description" in problems["broken"]
    assert "voice.json, prompt.safetensors, reference.flac missing" in problems["empty"]


def test_default_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("TIMBRE_VOICES", raising=False)
    assert VoiceLibrary().user_dir == Path(os.environ["XDG_DATA_HOME"]) / "timbre-studio" / "voices"
    monkeypatch.setenv("TIMBRE_VOICES", str(tmp_path / "env-voices"))
    library = VoiceLibrary()
    assert library.user_dir == tmp_path / "env-voices"
    assert _create(library, "Env Voice").folder.parent == tmp_path / "env-voices"
    assert "tiny-random-default" in _ids(library.presets())


def test_the_shipped_builtin_preset_fits_the_tiny_random_model(tmp_path):
    preset = VoiceLibrary(tmp_path / "voices").get("tiny-random-default")
    model = assets_dir() / "tiny-random"
    cfg = read_config(model)
    assert (preset.origin, preset.family, preset.has_consent) == ("builtin", cfg.family, True)
    assert preset.model_hash == file_hash(model / "model.safetensors"), "regenerate presets/tiny-random-default"
    codes = VoiceLibrary(tmp_path / "voices").prompt("tiny-random-default")
    assert codes.shape[1] == 1 + cfg.tts.acoustic_dim
    assert codes[:, 0].max() < cfg.tts.semantic_codebook_size and codes[:, 1:].max() < cfg.tts.acoustic_levels
    audio, rate = read_reference(preset.folder)
    assert rate == cfg.codec.sample_rate and audio.size > 0
    assert read_preset(preset.folder, origin="builtin") == preset
    assert not list(Path(tmp_path / "voices").glob("*"))  # reading wrote nothing

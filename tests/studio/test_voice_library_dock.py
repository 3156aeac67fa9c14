"""The voice library dock in the real window: search and filters, the consent marker, choosing a
preset, edit, variant, delete + undo, export/import and read-only presets."""

import zipfile

import numpy as np

from PySide6 import QtCore

from engine.voices.preset import Consent
from helpers import make_preset

CONSENT = Consent("Ada Lovelace", "I agree that Acme may make a synthetic voice from my recordings.",
                  "2025-03-01", "signed release")


def _names(panel):
    return [p.name for p in panel.shown()]


def _library_studio(qtbot, make_studio):
    studio = make_studio()
    w = studio.window
    lib, info = w.voices.library, w.info
    make_preset(lib, info, "Aurora", language="en", tags=("warm", "narration"), brand="Acme", consent=CONSENT,
                params={"steps": 6, "guidance": 1.5})
    make_preset(lib, info, "Boreas", language="de", tags=("crisp",), brand="Acme", consent=CONSENT, seed=1)
    make_preset(lib, info, "Cirrus", language="en-GB", tags=("warm",), brand="Globex", seed=2)  # no consent
    qtbot.mouseClick(w.voice_panel.library_button, QtCore.Qt.LeftButton)
    assert w.voices.dock.isVisible()
    return studio, w, w.voices.panel


def test_search_and_filters_narrow_the_list(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)
    users = [n for n in _names(panel) if n in ("Aurora", "Boreas", "Cirrus")]
    assert users == ["Aurora", "Boreas", "Cirrus"]
    assert "default" in _names(panel)  # the model's own voice is listed, read-only
    qtbot.keyClicks(panel.search, "warm")
    assert _names(panel) == ["Aurora", "Cirrus"]
    panel.set_filter("brand", "Globex")
    assert _names(panel) == ["Cirrus"]
    panel.set_filter("brand", None)
    panel.set_filter("language", "en")  # "en" also finds en-GB
    assert _names(panel) == ["Aurora", "Cirrus"]
    panel.search.clear()
    panel.set_filter("language", None)
    panel.set_filter("tag", "crisp")
    assert _names(panel) == ["Boreas"]
    panel.set_filter("tag", None)
    panel.set_filter("family", w.info.family)
    assert {"Aurora", "Boreas", "Cirrus", "default"} <= set(_names(panel))
    brands = [panel.filters["brand"].itemText(i) for i in range(panel.filters["brand"].count())]
    shipped = w.voices.library.get("tiny-random-default").brand  # the built-in preset's, if it names one
    assert brands == ["any brand", *sorted({"Acme", "Globex"} | ({shipped} if shipped else set()))]


def test_a_preset_without_consent_is_marked_everywhere_it_is_shown(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)
    titles = {panel.list.item(i).data(QtCore.Qt.UserRole).name: panel.list.item(i).text()
              for i in range(panel.list.count())}
    assert "no consent record" in titles["Cirrus"] and "no consent record" not in titles["Aurora"]
    assert "no consent record" not in titles["default"]  # a model's released voice comes with the model
    panel.select("cirrus")
    assert "no consent record" in panel.details.text()
    combo = [w.voice_panel.combo.itemText(i) for i in range(w.voice_panel.combo.count())]
    assert any("Cirrus" in t and "no consent record" in t for t in combo)
    assert any("Aurora" in t and "no consent record" not in t for t in combo)


def test_using_a_preset_sets_the_voice_and_its_settings(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)
    panel.select("aurora")
    qtbot.mouseClick(panel.use_button, QtCore.Qt.LeftButton)
    assert w.voice_panel.voice == "preset:aurora" and "Aurora" in w.voice_panel.combo.currentText()
    assert w.project.default_voice == "preset:aurora"
    assert (w.sampler.state.steps, w.sampler.state.guidance) == (6, 1.5)
    assert w.sampler.params_for_render().steps == 6
    para = w.project.paragraphs[0]  # one paragraph can take another preset from the script's menu
    voice_menu = w.script_panel.paragraph_menu(para.id).actions()[0].menu()
    next(a for a in voice_menu.actions() if a.text().startswith("Boreas")).trigger()
    assert w.project.voice_of(para) == "preset:boreas" and w.project.default_voice == "preset:aurora"


def test_edit_and_variant(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)
    panel.select("cirrus")
    panel.edit({"name": "Cirrus", "description": "airy", "language": "en-GB", "tags": ("warm", "airy"),
                "brand": "Globex", "transcript": "", "consent": CONSENT})
    edited = w.voices.library.get("cirrus")
    assert edited.description == "airy" and edited.consent == CONSENT and edited.tags == ("warm", "airy")
    assert "no consent record" not in panel.list.currentItem().text()
    qtbot.mouseClick(panel.variant_button, QtCore.Qt.LeftButton)
    assert panel.current().name == "Cirrus (variant)" and not panel.current().read_only
    assert panel.current().id != "cirrus" and "Cirrus (variant)" in _names(panel)


def test_delete_goes_to_the_trash_and_undo_restores_it(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)
    lib = w.voices.library
    panel.select("boreas")
    qtbot.mouseClick(panel.delete_button, QtCore.Qt.LeftButton)
    assert "Boreas" not in _names(panel) and "boreas" not in {p.id for p in lib.presets()}
    assert [e.name for e in lib.trash()] == ["Boreas"]
    assert panel.undo_bar.isVisible() and "Boreas" in panel.undo_label.text()
    assert w.undo_action.text() == "Undo delete voice “Boreas”"
    qtbot.mouseClick(panel.undo_button, QtCore.Qt.LeftButton)
    assert "Boreas" in _names(panel) and lib.get("boreas").consent == CONSENT and not lib.trash()
    assert not panel.undo_bar.isVisible() and panel.current().id == "boreas"
    w.redo()  # deletes it again; Ctrl+Z brings it back again
    assert "Boreas" not in _names(panel)
    w.undo()
    assert "Boreas" in _names(panel)


def test_export_import_round_trip_and_a_bad_bundle_is_explained(qtbot, make_studio, tmp_path):
    studio, w, panel = _library_studio(qtbot, make_studio)
    lib = w.voices.library
    panel.select("aurora")
    bundle = panel.export(tmp_path / "aurora.timbrevoice")
    assert bundle.is_file() and "Exported" in panel.message.text()
    imported = panel.import_bundle(bundle)
    assert imported.name == "Aurora" and imported.id != "aurora" and panel.current().id == imported.id
    assert imported.consent == CONSENT and lib.prompt(imported.id).tolist() == lib.prompt("aurora").tolist()
    before = sorted(p.id for p in lib.presets())
    bad = tmp_path / "evil.timbrevoice"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            dst.writestr("../" + item.filename if item.filename == "voice.json" else item, src.read(item))
    assert panel.import_bundle(bad) is None
    assert panel.message.text().startswith("Not imported (nothing was written): ")
    assert "evil.timbrevoice" in panel.message.text()
    assert sorted(p.id for p in lib.presets()) == before


def test_built_in_and_model_voices_are_read_only(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)
    for pid in ("tiny-random-default", f"{w.info.family}:default"):  # shipped in presets/; the model's own
        panel.select(pid)
        assert panel.current().read_only and "read-only" in panel.details.text()
        assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
        panel.delete()  # refused quietly: nothing moves
        assert pid in {p.id for p in w.voices.library.presets()}
    assert not panel.variant_button.isEnabled() and not panel.export_button.isEnabled()  # no files to copy
    panel.select("tiny-random-default")
    shipped = panel.current()
    assert panel.variant_button.isEnabled() and panel.export_button.isEnabled()
    qtbot.mouseClick(panel.variant_button, QtCore.Qt.LeftButton)
    assert panel.current().name == f"{shipped.name} (variant)" and not panel.current().read_only


def test_preview_renders_once_then_plays_from_the_cache(qtbot, make_studio, played_audio):
    from studio.voices.preview import preview_key, preview_request

    studio, w, panel = _library_studio(qtbot, make_studio)
    previewer, lib = w.voices.previewer, w.voices.library
    heard, failures = [], []
    previewer.ready.connect(lambda pid, audio, rate: heard.append((pid, audio)))
    previewer.failed.connect(lambda pid, message: failures.append(message))
    panel.select("aurora")
    qtbot.mouseClick(panel.preview_button, QtCore.Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(heard or failures), timeout=30_000)
    assert not failures and previewer.renders == 1 and heard[0][0] == "aurora" and len(heard[0][1]) > 0
    preset = lib.get("aurora")
    cached = lib.preview_path("aurora", preview_key(preview_request(preset, w.info), w.info))
    assert cached.is_file()
    qtbot.waitUntil(lambda: played_audio.stat().st_size > 0, timeout=10_000)  # heard on the output device
    qtbot.mouseClick(panel.preview_button, QtCore.Qt.LeftButton)
    assert len(heard) == 2 and previewer.renders == 1  # from the cache at once: nothing rendered
    np.testing.assert_allclose(heard[1][1], heard[0][1], atol=2 ** -22)  # 24-bit FLAC cache
    w.player.stop()


def test_a_chosen_preset_and_the_open_library_survive_a_restart(qtbot, make_studio):
    studio, w, panel = _library_studio(qtbot, make_studio)  # (the dock is open)
    panel.select("boreas")
    panel.use()
    w.close()
    second = make_studio().window  # the same settings file
    assert second.voice_panel.voice == "preset:boreas" == second.project.default_voice
    assert "Boreas" in second.voice_panel.combo.currentText() and second.voices.dock.isVisible()

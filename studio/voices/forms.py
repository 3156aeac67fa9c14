"""The fields a preset's creation and edit dialogs share: its metadata, and the consent record."""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from engine.voices.preset import Consent, VoicePreset
from studio.voices.presentation import NO_CONSENT

CONSENT_METHODS = ("recorded statement", "signed release", "written email", "verbal, witnessed")


def split_tags(text: str) -> tuple[str, ...]:
    """"warm, Narration ,  warm" -> ("warm", "Narration"): comma separated, trimmed, no repeats."""
    seen: dict[str, None] = {}
    for tag in (t.strip() for t in text.split(",")):
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


class MetadataForm(QtWidgets.QWidget):
    """Name, description, language, tags, brand. ``changed`` fires on every edit."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.name = QtWidgets.QLineEdit(objectName="voice_name", placeholderText="e.g. Aurora — warm narrator")
        self.description = QtWidgets.QLineEdit(objectName="voice_description")
        self.language = QtWidgets.QLineEdit(objectName="voice_language", placeholderText="e.g. en")
        self.tags = QtWidgets.QLineEdit(objectName="voice_tags", placeholderText="comma separated: warm, narration")
        self.brand = QtWidgets.QLineEdit(objectName="voice_brand")
        for label, field in (("Name", self.name), ("Description", self.description), ("Language", self.language),
                             ("Tags", self.tags), ("Brand", self.brand)):
            form.addRow(label, field)
            field.textChanged.connect(self.changed)

    def load(self, preset: VoicePreset) -> None:
        self.name.setText(preset.name)
        self.description.setText(preset.description)
        self.language.setText(preset.language)
        self.tags.setText(", ".join(preset.tags))
        self.brand.setText(preset.brand)

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text().strip(), "description": self.description.text().strip(),
                "language": self.language.text().strip(), "tags": split_tags(self.tags.text()),
                "brand": self.brand.text().strip()}


class ConsentBox(QtWidgets.QGroupBox):
    """The speaker's consent: who, their statement, when, how it was obtained; or, explicitly, none.

    ``complete`` is True when the record is filled in or "no consent record" is chosen.
    """

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Speaker's consent", parent)
        lay = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        self.speaker = QtWidgets.QLineEdit(objectName="consent_speaker", placeholderText="the person whose voice it is")
        self.statement = QtWidgets.QPlainTextEdit(objectName="consent_statement")
        self.statement.setPlaceholderText("what they agreed to, in their words, e.g. “I agree that Acme may "
                                          "make and use a synthetic voice from my recordings.”")
        self.statement.setFixedHeight(54)
        self.date = QtWidgets.QDateEdit(QtCore.QDate.currentDate(), objectName="consent_date", calendarPopup=True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.method = QtWidgets.QComboBox(objectName="consent_method", editable=True)
        self.method.addItems(CONSENT_METHODS)
        form.addRow("Speaker", self.speaker)
        form.addRow("Statement", self.statement)
        form.addRow("Date", self.date)
        form.addRow("How obtained", self.method)
        lay.addLayout(form)
        self.declined = QtWidgets.QCheckBox(
            f"There is no consent record: mark this voice “{NO_CONSENT}” everywhere", objectName="consent_none")
        lay.addWidget(self.declined)
        self.speaker.textChanged.connect(self.changed)
        self.statement.textChanged.connect(self.changed)
        self.method.currentTextChanged.connect(self.changed)
        self.declined.toggled.connect(self._on_declined)

    def load(self, consent: Consent | None) -> None:
        self.declined.setChecked(consent is None)
        if consent is not None:
            self.speaker.setText(consent.speaker)
            self.statement.setPlainText(consent.statement)
            self.date.setDate(QtCore.QDate.fromString(consent.date, "yyyy-MM-dd"))
            self.method.setCurrentText(consent.method)

    def fill(self, speaker: str, statement: str, method: str = CONSENT_METHODS[0]) -> None:
        self.declined.setChecked(False)
        self.speaker.setText(speaker)
        self.statement.setPlainText(statement)
        self.method.setCurrentText(method)

    @property
    def complete(self) -> bool:
        return self.declined.isChecked() or self.missing() == []

    def missing(self) -> list[str]:
        """The consent fields still empty (what Create waits for)."""
        fields = (("speaker", self.speaker.text()), ("statement", self.statement.toPlainText()),
                  ("how it was obtained", self.method.currentText()))
        return [name for name, value in fields if not value.strip()]

    def consent(self) -> Consent | None:
        """The record, or None when "no consent record" is chosen (or the record is incomplete)."""
        if self.declined.isChecked() or self.missing():
            return None
        return Consent(speaker=self.speaker.text().strip(), statement=self.statement.toPlainText().strip(),
                       date=self.date.date().toString("yyyy-MM-dd"), method=self.method.currentText().strip())

    def _on_declined(self, declined: bool) -> None:
        for w in (self.speaker, self.statement, self.date, self.method):
            w.setEnabled(not declined)
        self.changed.emit()

"""The create-identity dialog keeps what was typed when the passphrase (or name) is refused:
it checks with the same rule as reports.identity.create_identity before it closes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from gui.export.page import NewIdentityDialog
from reports.identity import MIN_PASSPHRASE, create_identity

DEFAULTS = {"name": "Dr Zoë Ångström", "role": "Methodologist", "organisation": "Probity QA",
            "email": "z@example.org"}


@pytest.fixture
def dialog(qtbot) -> NewIdentityDialog:
    widget = NewIdentityDialog(None, DEFAULTS)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def press_ok(qtbot, dialog: NewIdentityDialog) -> None:
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def typed(dialog: NewIdentityDialog) -> tuple[str, ...]:
    return (dialog.name.text(), dialog.role.text(), dialog.organisation.text(),
            dialog.email.text(), dialog.passphrase.text(), dialog.confirm.text())


def test_short_passphrase_is_refused_in_the_dialog_and_nothing_typed_is_lost(qtbot, dialog):
    dialog.role.clear()
    qtbot.keyClicks(dialog.role, "Statistician")
    short = "x" * (MIN_PASSPHRASE - 1)
    qtbot.keyClicks(dialog.passphrase, short)
    qtbot.keyClicks(dialog.confirm, short)
    before = typed(dialog)
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "too short" in dialog.message.text() and str(MIN_PASSPHRASE) in dialog.message.text()
    assert typed(dialog) == before
    qtbot.keyClicks(dialog.passphrase, "yz")  # fix it in place: the rest is still there
    qtbot.keyClicks(dialog.confirm, "yz")
    press_ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    value = dialog.value()
    assert (value.name, value.role, value.passphrase) == (DEFAULTS["name"], "Statistician",
                                                          short + "yz")


def test_existing_identity_is_named_before_the_dialog_closes(qtbot, dialog):
    create_identity(DEFAULTS["name"], b"a long passphrase", key_type="ec-p256")
    qtbot.keyClicks(dialog.passphrase, "another long one")
    qtbot.keyClicks(dialog.confirm, "another long one")
    before = typed(dialog)
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "already exists; choose another name" in dialog.message.text()
    assert typed(dialog) == before


def test_passphrases_that_differ_are_still_caught_first(qtbot, dialog):
    qtbot.keyClicks(dialog.passphrase, "a long passphrase")
    qtbot.keyClicks(dialog.confirm, "a long passphrasE")
    press_ok(qtbot, dialog)
    assert dialog.message.text() == "The two passphrases differ."
    assert dialog.passphrase.text() == "a long passphrase"

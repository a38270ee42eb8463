"""Screenshot every step of the main window, for reviewing the GUI by eye.

    xvfb-run -a -s "-screen 0 1400x900x24" python -m gui.screenshots OUTDIR [FILE.probity]

(``PROBITY_SHOT_SIZE=1024x700`` checks a small screen.)

Opens the given assessment (default: the demo, else a new PROBAST assessment), shows the real
window, visits every step and saves ``OUTDIR/NN-<step>.png`` from ``QWidget.grab()``; also the
About and Help dialogs. Uses a throw-away config folder so no recovery file is offered or left.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PROBITY_CONFIG_DIR", tempfile.mkdtemp(prefix="probity-shots-"))
    from PySide6.QtCore import QEventLoop, QTimer

    from assessment import storage
    from assessment.document import Assessment
    from gui.app import make_application
    from gui.dialogs import AboutDialog, HelpDialog
    from gui.main_window import MainWindow, demo_path

    app = make_application(argv[:1])

    def settle(ms: int = 250) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    window = MainWindow()
    source = Path(argv[2]) if len(argv) > 2 else demo_path()
    doc = storage.load(source) if source is not None else Assessment.new()
    window.set_document(doc, None)
    width, height = (int(v) for v in os.environ.get("PROBITY_SHOT_SIZE", "1360x860").split("x"))
    window.resize(width, height)
    window.show()
    settle(500)
    for index, step in enumerate(window.steps, start=1):
        page = window.go_to(step.key)
        settle()
        for _ in range(300):  # a page that loads its data on show: shoot it loaded (<= 30 s)
            if not window.ctx.busy:
                break
            settle(100)
        settle()
        name = step.key.replace(":", "-")
        window.grab().save(str(out / f"{index:02d}-{name}.png"))
        content = getattr(page, "content", None)  # the whole scrollable page, top to bottom
        if content is not None:
            content.grab().save(str(out / f"{index:02d}-{name}-full.png"))
    window.refresh_steps()
    settle()
    window.go_to(window.steps[0].key)
    settle()
    window.grab().save(str(out / "00-steps-state.png"))
    for name, dialog in (("about", AboutDialog(window.ctx, window)), ("help", HelpDialog(window))):
        dialog.show()
        settle()
        dialog.grab().save(str(out / f"99-{name}.png"))
        dialog.close()
    window.close_without_prompt()
    app.processEvents()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

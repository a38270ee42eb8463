"""AppContext.run_job: worker results, progress, cancel, one job at a time, error funnel."""

from __future__ import annotations

import threading
import time

import pytest

from assessment.errors import Cancelled, DataError
from gui.context import AppContext


@pytest.fixture
def ctx(qtbot):
    context = AppContext()
    yield context
    assert context.shutdown()


def test_result_arrives_on_ui_thread(qtbot, ctx):
    seen: dict[str, object] = {}
    ui_thread = threading.get_ident()

    def work(progress, cancelled):
        seen["worker"] = threading.get_ident()
        progress(0.5)
        return {"answer": 42}

    def done(result):
        seen["result"] = result
        seen["callback"] = threading.get_ident()

    job = ctx.run_job(work, on_done=done)
    with qtbot.waitSignal(job.succeeded, timeout=5000):
        pass
    assert seen["result"] == {"answer": 42}
    assert seen["callback"] == ui_thread
    assert seen["worker"] != ui_thread
    assert ctx.current_job is None


def test_progress_is_throttled(qtbot, ctx):
    values: list[float] = []

    def work(progress, cancelled):
        for i in range(10_000):
            progress(i / 10_000)
        progress(1.0)
        return None

    job = ctx.run_job(work, on_progress=values.append)
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert 1 <= len(values) < 100
    assert values[-1] == 1.0


def test_cancel_drops_result_and_reports_cancelled(qtbot, ctx):
    started = threading.Event()
    done: list[object] = []
    cancelled_calls: list[bool] = []

    def work(progress, cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.005)
        raise Cancelled()

    job = ctx.run_job(work, on_done=done.append, on_cancelled=lambda: cancelled_calls.append(True))
    assert started.wait(5)
    with qtbot.waitSignal(job.was_cancelled, timeout=5000):
        job.cancel()
    assert done == [] and cancelled_calls == [True]
    assert job.state == "cancelled"


def test_new_job_cancels_the_running_one(qtbot, ctx):
    started = threading.Event()

    def slow(progress, cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.005)
        return "stale"

    results: list[str] = []
    first = ctx.run_job(slow, on_done=results.append)
    assert started.wait(5)
    second = ctx.run_job(lambda p, c: "fresh", on_done=results.append)
    with qtbot.waitSignals([first.was_cancelled, second.succeeded], timeout=5000):
        pass
    assert results == ["fresh"]


def test_errors_go_to_the_funnel(qtbot, ctx, dialogs):

    def bad(progress, cancelled):
        raise DataError("Column 'score' in demo.csv is not numeric (row 3). Map another column.")

    job = ctx.run_job(bad)
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    assert dialogs.messages == [
        "Column 'score' in demo.csv is not numeric (row 3). Map another column."]


def test_unexpected_errors_show_one_sentence_and_log_the_traceback(qtbot, ctx, dialogs):

    def buggy(progress, cancelled):
        return 1 / 0

    job = ctx.run_job(buggy)
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    shown = dialogs.messages
    assert len(shown) == 1 and "Traceback" not in shown[0]
    assert "ZeroDivisionError" in shown[0] and "work is kept" in shown[0]
    assert "Traceback" in ctx.paths.crash_log.read_text()


def test_runnables_outlive_their_job_until_the_pool_is_idle(qtbot, ctx):
    from PySide6.QtCore import QThreadPool

    from gui import context

    job = ctx.run_job(lambda p, c: "x")
    runnable = job.runnable
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert runnable in context._LIVE_RUNNABLES  # kept even if the Job goes away now
    assert runnable._fn is None  # ...but without the closure and its data
    assert QThreadPool.globalInstance().waitForDone(5000)
    second = ctx.run_job(lambda p, c: "y")
    assert runnable not in context._LIVE_RUNNABLES and second.runnable in context._LIVE_RUNNABLES
    with qtbot.waitSignal(second.ended, timeout=5000):
        pass


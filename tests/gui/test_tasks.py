"""TaskRunner: worker results on the UI thread, progress, cancel, lanes, one runner per owner
(cancelling only its own work, stopping with its owner), the error funnel."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QObject

from assessment.errors import Cancelled, DataError
from gui import tasks
from gui.context import AppContext


@pytest.fixture
def ctx(qtbot):
    context = AppContext()
    yield context
    assert context.shutdown()


class Runner:
    """``ctx.run_job``'s successor for these tests: one owner with one task runner."""

    def __init__(self, ctx: AppContext) -> None:
        self.owner = QObject()
        self.runner = ctx.task_runner(self.owner)

    def __call__(self, fn, on_done=None, on_progress=None, on_error=None, *, on_cancelled=None):
        return self.runner.run(
            fn, on_done, on_progress=on_progress, on_error=on_error, on_cancelled=on_cancelled
        )


@pytest.fixture
def run(ctx):
    return Runner(ctx)


def test_result_arrives_on_ui_thread(qtbot, ctx, run):
    seen: dict[str, object] = {}
    ui_thread = threading.get_ident()

    def work(progress, cancelled):
        seen["worker"] = threading.get_ident()
        progress(0.5)
        return {"answer": 42}

    def done(result):
        seen["result"] = result
        seen["callback"] = threading.get_ident()

    job = run(work, on_done=done)
    with qtbot.waitSignal(job.succeeded, timeout=5000):
        pass
    assert seen["result"] == {"answer": 42}
    assert seen["callback"] == ui_thread
    assert seen["worker"] != ui_thread
    assert not run.runner.running() and not ctx.busy


def test_progress_is_throttled(qtbot, ctx, run):
    values: list[float] = []

    def work(progress, cancelled):
        for i in range(10_000):
            progress(i / 10_000)
        progress(1.0)
        return None

    job = run(work, on_progress=values.append)
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert 1 <= len(values) < 100
    assert values[-1] == 1.0


def test_cancel_drops_result_and_reports_cancelled(qtbot, ctx, run):
    started = threading.Event()
    done: list[object] = []
    cancelled_calls: list[bool] = []

    def work(progress, cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.005)
        raise Cancelled()

    job = run(work, on_done=done.append, on_cancelled=lambda: cancelled_calls.append(True))
    assert started.wait(5)
    with qtbot.waitSignal(job.was_cancelled, timeout=5000):
        job.cancel()
    assert done == [] and cancelled_calls == [True]
    assert job.state == "cancelled"


def test_new_job_cancels_the_running_one(qtbot, ctx, run):
    started = threading.Event()

    def slow(progress, cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.005)
        return "stale"

    results: list[str] = []
    first = run(slow, on_done=results.append)
    assert started.wait(5)
    second = run(lambda p, c: "fresh", on_done=results.append)
    with qtbot.waitSignals([first.was_cancelled, second.succeeded], timeout=5000):
        pass
    assert results == ["fresh"]


def test_errors_go_to_the_funnel(qtbot, ctx, run, dialogs):

    def bad(progress, cancelled):
        raise DataError("Column 'score' in demo.csv is not numeric (row 3). Map another column.")

    job = run(bad)
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    assert dialogs.messages == [
        "Column 'score' in demo.csv is not numeric (row 3). Map another column."
    ]


def test_unexpected_errors_show_one_sentence_and_log_the_traceback(qtbot, ctx, run, dialogs):

    def buggy(progress, cancelled):
        return 1 / 0

    job = run(buggy)
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    shown = dialogs.messages
    assert len(shown) == 1 and "Traceback" not in shown[0]
    assert "ZeroDivisionError" in shown[0] and "work is kept" in shown[0]
    assert "Traceback" in ctx.paths.crash_log.read_text()


def test_runnables_outlive_their_job_until_the_pool_is_idle(qtbot, ctx, run):
    from PySide6.QtCore import QThreadPool

    job = run(lambda p, c: "x")
    runnable = job.runnable
    with qtbot.waitSignal(job.ended, timeout=5000):
        pass
    assert runnable in tasks._LIVE_RUNNABLES  # kept even if the Job goes away now
    assert runnable._fn is None  # ...but without the closure and its data
    assert QThreadPool.globalInstance().waitForDone(5000)
    second = run(lambda p, c: "y")
    assert runnable not in tasks._LIVE_RUNNABLES and second.runnable in tasks._LIVE_RUNNABLES
    with qtbot.waitSignal(second.ended, timeout=5000):
        pass


def test_lanes_and_runners_cancel_only_their_own_previous_task(qtbot, ctx, run):
    started = threading.Event()

    def slow(progress, cancelled):
        started.set()
        while not cancelled():
            time.sleep(0.005)
        raise Cancelled()

    evaluation = run.runner.run(slow, lane="work")
    assert started.wait(5)
    other = Runner(ctx)  # another page
    check = run.runner.run(lambda p, c: "checked", lane="check", quiet=True)
    export = other.runner.run(lambda p, c: "exported")
    with qtbot.waitSignals([check.succeeded, export.succeeded], timeout=5000):
        pass
    assert evaluation.state == "running" and ctx.busy  # neither cancelled the evaluation
    with qtbot.waitSignal(evaluation.was_cancelled, timeout=5000):
        run.runner.run(lambda p, c: "second", lane="work")  # its own lane's next task does
    assert not run.runner.running("check")


def test_discarded_task_calls_nothing(qtbot, run):
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def work(progress, cancelled):
        started.set()
        release.wait(5)
        return "stale"

    task = run.runner.run(work, calls.append, on_cancelled=lambda: calls.append("cancelled"))
    assert started.wait(5)
    run.runner.discard()
    release.set()
    with qtbot.waitSignal(task.ended, timeout=5000):
        pass
    assert calls == [] and task.state == "cancelled"


def test_a_runner_stops_with_its_owner(qtbot, ctx):
    owner = QObject()
    runner = ctx.task_runner(owner)
    seen: list[object] = []
    started, release = threading.Event(), threading.Event()
    cancel_seen: list[bool] = []

    def work(progress, cancelled):
        started.set()
        release.wait(5)
        cancel_seen.append(cancelled())
        return "late"

    task = runner.run(work, seen.append, on_cancelled=lambda: seen.append("cancelled"))
    assert started.wait(5) and ctx.busy
    owner.deleteLater()
    qtbot.waitUntil(lambda: not ctx.busy, timeout=5000)  # the runner went with its owner
    release.set()
    assert task.wait(5)
    qtbot.wait(100)  # a timer that survived would deliver now
    assert seen == [] and cancel_seen == [True]


def test_stop_waits_for_workers_and_runs_nothing_afterwards(qtbot, run):
    def slow(progress, cancelled):
        while not cancelled():
            time.sleep(0.005)
        return None

    task = run.runner.run(slow)
    assert run.runner.stop(5.0) and task.thread_finished()
    late = run.runner.run(lambda p, c: pytest.fail("a stopped runner ran a task"))
    assert late.state == "cancelled" and late.thread_finished()

"""Many users at once: N real sessions against one real `streamlit run app.py` server (hosted
mode), all starting a training at the same moment and predicting while they train.

    .venv/bin/python -m bench.many_users [--sessions 8] [--epochs 2] [--predictions 5] [--url URL]
    .venv/bin/python -m bench.many_users --driver websocket [--sessions 8] [--epochs 10] [--predictions 10]
    .venv/bin/python -m bench.many_users --driver websocket --abandon 6   # first, 6 visitors start and leave

Without --url it starts its own server here; with --url it drives a running deployment
(a container, Community Cloud). `--driver browser` (the default) gives each session its own
Chromium context; `--driver websocket` speaks the app's websocket protocol from Python
(bench/streamlit_client.py), the messages a browser sends, without the browsers: on a 2-core
machine eight Chromiums starve the server they share it with, so only this driver measures the
server's own answer times here.

Each session is like a separate person and does what a class would: opens a shared Train link
with its own learning rate (or one of --learning-rates, as a class told to keep the lesson's
does: equal settings train once), presses Start training, watches it on Train until its results are
on screen, then goes to Predict and asks for predictions on test images. The last session
starts once the others have, so that it lands in the queue, cancels there, and starts again.
Beside the class, --predictors visitors only predict on Predict, one test image after another
from the class's first Start until its last training is done: their answer times are the
"predictions while trainings run". Prints per-action latencies (p50/p95/max), errors, what the
queue showed, and whether any session saw a run that was not its own (each run's name carries
its lr; the visitors must see none).

With --abandon N, before the class arrives N visitors each open the worst link the server
allows (50 epochs, batch 8, Adam: minutes of a core), press Start and close the connection;
a newcomer then starts a training, and the bench prints its place in line second by second
as the abandoned trainings are stopped or dropped, and when its results came.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.appserver import CHROMIUM, CHROMIUM_ARGS, child_pids, cpu_seconds, streamlit_server
from bench.streamlit_client import StreamlitClient

from model.service.settings import load_settings
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TIMEOUT = 120_000  # ms: generous, a loaded 2-core machine is slow, but a hang still ends
QUEUED = re.compile(r"You are number \**(\d+)\** in line")  # the browser shows it bold, the protocol as **n**
TEST_IMAGE = re.compile(r"Test image #\d+")


@dataclass
class Session:
    index: int
    lr: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    queue_positions: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs_seen: list[str] = field(default_factory=list)
    predicted_at: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds) while trainings run
    results_at: float | None = None  # when this session first saw its finished run
    started_at: float | None = None  # when it pressed Start (the last time, after a cancel)

    def timed(self, action: str, seconds: float) -> None:
        self.latencies.setdefault(action, []).append(seconds)


class Gate:
    """Every session waits here until all have arrived; a session that fails arrives at its
    remaining gates at once, so one broken session doesn't hang the others."""

    def __init__(self, count: int):
        self.count, self.open = count, asyncio.Event()
        if count <= 0:  # nobody to wait for
            self.open.set()

    def arrive(self) -> None:
        self.count -= 1
        if self.count <= 0:
            self.open.set()

    async def pass_(self) -> None:
        self.arrive()
        await self.open.wait()


class ServerClock:
    """Server-side time of each script run a page asks for: from the rerun request leaving the
    browser to the server's "script finished" arriving, both seen on the page's websocket.
    Unlike click-to-screen it leaves out the browser's own rendering, which on a test machine
    competes with the server for the same CPUs (real users' browsers run elsewhere)."""

    def __init__(self, page):
        self.sent: float | None = None
        self.durations: list[float] = []
        page.on("websocket", lambda ws: (ws.on("framesent", self._sent), ws.on("framereceived", self._received)))

    def _sent(self, payload) -> None:
        if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
            self.sent = time.perf_counter()

    def _received(self, payload) -> None:
        if self.sent is not None and isinstance(payload, bytes):
            message = ForwardMsg.FromString(payload)
            if message.WhichOneof("type") == "script_finished":
                self.durations.append(time.perf_counter() - self.sent)
                self.sent = None


async def timed(session: Session, action: str, awaitable):
    started = time.perf_counter()
    result = await awaitable
    session.timed(action, time.perf_counter() - started)
    return result


class NoAnswer(Exception):
    """A click for another test image showed no answer; the message says what was seen."""


class BrowserUser:
    """A session in its own Chromium context (like a separate person), clicking the page."""

    def __init__(self, session: Session, browser, url: str):
        self.session, self.browser, self.url = session, browser, url
        self.evidence = ""  # where to look when this session failed

    async def __aenter__(self) -> "BrowserUser":
        self.context = await self.browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = await self.context.new_page()
        self.clock = ServerClock(self.page)
        self.page.on("pageerror", lambda error: self.session.errors.append(f"browser error: {error}"))
        return self

    async def __aexit__(self, kind, error, traceback) -> None:
        if kind is not None:  # a screenshot of the page as the failure left it
            shot = Path(tempfile.gettempdir()) / f"load-test-session-{self.session.index}.png"
            try:
                await self.page.screenshot(path=str(shot), full_page=True)
                self.evidence = f" (screenshot: {shot})"
            except Exception:  # noqa: BLE001 - the page may be gone
                pass
        await self.context.close()

    async def open_link(self, query: str) -> None:
        await self.page.goto(f"{self.url}/train?{query}")
        await self.page.locator(".st-key-start button").wait_for(timeout=TIMEOUT)

    async def start(self) -> int | None:
        """Press Start; the place in line shown, or None when it runs at once."""
        await self.page.locator(".st-key-start button").click()
        queued = self.page.get_by_text(QUEUED)
        await self.page.get_by_test_id("stProgress").or_(queued).first.wait_for(timeout=TIMEOUT)
        return int(QUEUED.search(await queued.first.inner_text()).group(1)) if await queued.count() else None

    async def cancel_in_queue(self) -> None:
        await self.page.locator(".st-key-stop_job button").click()  # in line, Stop leaves the line
        await self.page.get_by_text("cancelled before it started").wait_for(timeout=TIMEOUT)

    async def open(self, name: str) -> None:
        """In-app navigation (the same session), like clicking the top bar."""
        await self.page.get_by_role("link", name=name, exact=True).first.click()

    async def show_test_images(self) -> None:
        """Open Predict on its test-image input (it resets when the user leaves the page)."""
        await self.open("Predict")
        await self.page.locator(".st-key-predict_input").get_by_text("Test image").click()
        await self.page.get_by_text(re.compile(r"^Test image #\d+")).first.wait_for(timeout=TIMEOUT)

    async def predict_another(self) -> tuple[float, float | None] | None:
        """Timed from the click to the new answer on screen, and the server's part of it."""
        before = await self.page.get_by_text(re.compile(r"^Test image #\d+")).first.inner_text()
        runs = len(self.clock.durations)
        await self.page.locator(".st-key-another button").click()
        started = time.perf_counter()
        try:
            await self.page.wait_for_function(
                "([before]) => [...document.querySelectorAll('[data-testid=stImageCaption]')]"
                ".some(e => e.innerText.startsWith('Test image #') && e.innerText !== before)",
                arg=[before], timeout=10_000)
        except Exception:  # noqa: BLE001 - the same image twice in a row (1 in 10,000), or a hang
            raise NoAnswer("a prediction showed no new answer within 10 s") from None
        seconds = time.perf_counter() - started
        for _ in range(100):  # "script finished" follows the last change by a moment
            if len(self.clock.durations) > runs:
                return seconds, self.clock.durations[-1]
            await asyncio.sleep(0.05)
        return seconds, None

    async def wait_for_results(self) -> None:
        await self.page.locator(".st-key-download_model").wait_for(timeout=TIMEOUT)

    async def runs_seen(self) -> list[str]:
        if await self.page.get_by_test_id("stException").count():
            self.session.errors.append("the page shows an exception")
        models = self.page.locator(".st-key-predict_model")
        if await models.locator("[data-baseweb=select]").count():  # a menu: more than four runs listed
            return ["(a menu of more than four runs)"]
        return [line.strip() for line in (await models.inner_text()).splitlines() if re.search(r"\blr \d", line)]


class SocketUser:
    """A session over the app's websocket (bench/streamlit_client.py): each step ends when the
    server says "script finished", so its times are the server's own."""

    def __init__(self, session: Session, url: str):
        self.session, self.app = session, StreamlitClient(url)
        self.evidence = ""

    async def __aenter__(self) -> "SocketUser":
        await self.app.__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.app.__aexit__(*exc)

    async def open_link(self, query: str) -> None:
        await self.app.open("train", query)
        self.train_query = self.app.query  # the page rewrites it with every setting

    async def start(self) -> int | None:
        await self.app.click("start")
        queued = QUEUED.search(self.app.text())
        if queued:
            return int(queued.group(1))
        if not self.app.has("progress") and "download_model" not in self.app.widgets:
            self.session.errors.append("Start training showed neither progress nor a place in line")
        return None

    async def cancel_in_queue(self) -> None:
        await self.app.click("stop_job")
        if "cancelled before it started" not in self.app.text():
            self.session.errors.append("Stop in the queue did not confirm the cancellation")

    async def show_test_images(self) -> None:
        await self.app.open("predict")
        await self.app.choose("predict_input", "Test image")

    async def predict_another(self) -> tuple[float, float | None] | None:
        before = TEST_IMAGE.search(self.app.text())
        seconds = await self.app.click("another")
        after = TEST_IMAGE.search(self.app.text())
        if after is None or "Classified on the server" not in self.app.text():
            raise NoAnswer("a prediction showed no answer")
        if before is not None and after.group() == before.group():
            return None  # the same image twice in a row (1 in 10,000): not a new answer to time
        return seconds, None

    async def wait_for_results(self) -> None:
        while "download_model" not in self.app.widgets:  # the live fragment's polls, until the results
            if self.app.fragment is None:
                raise RuntimeError("the Train page shows neither a running job nor its results")
            await self.app.poll_fragment()

    async def runs_seen(self) -> list[str]:
        return [option for option in self.app.element("predict_model").options if re.search(r"\blr \d", option)]


async def start_training(session: Session, user) -> bool:
    """Press Start, timing the page's answer; whether it put this session in line."""
    session.started_at = time.perf_counter()
    position = await timed(session, "Start training: page shows progress or place in line", user.start())
    if position is not None:
        session.queue_positions.append(position)
    return position is not None


async def predict_test_images(session: Session, user, count: int, label: str) -> None:
    for _ in range(count):
        started = time.perf_counter()
        try:
            answer = await user.predict_another()
        except NoAnswer as error:
            session.errors.append(f"{error} ({label})")
            continue
        if answer is None:
            continue
        seconds, server = answer
        session.timed(f"Predict a test image ({label})", seconds)
        if server is not None:
            session.timed(f"  server side of it, {label} (rerun -> script finished)", server)
        if label == "while trainings run":
            session.predicted_at.append((started, seconds))
        await asyncio.sleep(0.3)  # a person looks at the answer before the next click


async def visit(session: Session, user, args, gates: list[Gate]) -> None:
    """What each person in the class does, whichever way they reach the app: open the shared
    link, press Start, watch the training on Train until its results, then predict."""
    all_loaded, others_started, all_trained = gates
    try:
        async with user:
            await timed(session, "Open a shared Train link", user.open_link(
                f"preset=lesson&epochs={args.epochs}&lr={session.lr}"))  # one shared link, each its own lr
            await all_loaded.pass_()

            late = session.index == args.sessions - 1
            if late:  # once everyone else is in line or training: on a loaded server a Start takes seconds
                await others_started.open.wait()
                await asyncio.sleep(1.0)  # past the queue's moment of gathering (GATHER_SECONDS)
            queued = await start_training(session, user)
            if not late:
                others_started.arrive()
            elif queued:
                await timed(session, "Cancel while queued: page confirms", user.cancel_in_queue())
                await start_training(session, user)

            await timed(session, "Watching Train: the finished run's results shown", user.wait_for_results())
            session.results_at = time.perf_counter()
            await all_trained.pass_()

            await user.show_test_images()
            await predict_test_images(session, user, args.predictions, "idle server")
            session.runs_seen = await user.runs_seen()
    except Exception as error:  # noqa: BLE001 - one broken session is a result, not the end of the test
        session.errors.append(f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}{user.evidence}")
        for gate in gates:
            if not gate.open.is_set():
                gate.arrive()


async def predict_meanwhile(session: Session, user, others_started: Gate, trainings_done: asyncio.Event) -> None:
    """A visitor who only predicts, from the class's first Start until every training is done."""
    try:
        async with user:
            await user.show_test_images()
            await others_started.open.wait()
            while not trainings_done.is_set():
                await predict_test_images(session, user, 1, "while trainings run")
            session.runs_seen = await user.runs_seen()
    except Exception as error:  # noqa: BLE001 - as in visit()
        session.errors.append(f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}{user.evidence}")


async def sample_cpu(server_cpu, samples: list, every: float = 0.25) -> None:
    while True:
        samples.append((time.perf_counter(), server_cpu()))
        await asyncio.sleep(every)


async def warm_up(url: str, seconds: float) -> None:
    """The teacher opens the Train link before sharing it: the server's one-time imports and its
    training processes start then, not while the class presses Start."""
    async with StreamlitClient(url) as teacher:
        await teacher.open("train", "preset=lesson")
    await asyncio.sleep(seconds)
    print(f"warm-up: the teacher opened Train, then {seconds:g} s passed before the class arrived")


WORST_LINK = "preset=lesson&epochs=50&batch_size=8&optimizer=adam"


async def abandon_phase(url: str, count: int) -> int:
    """`count` visitors start the worst training and leave; a newcomer's wait, printed. 1 if it
    waited behind them for longer than the server's abandon time allows."""
    for _ in range(count):
        async with StreamlitClient(url) as gone:
            await gone.open("train", WORST_LINK)
            await gone.click("start")
    left = time.perf_counter()
    timeline = []
    async with StreamlitClient(url) as newcomer:
        await newcomer.open("train", "preset=lesson&epochs=1")
        await newcomer.click("start")
        while "download_model" not in newcomer.widgets and time.perf_counter() - left < 600:
            place = QUEUED.search(newcomer.text())
            timeline.append((time.perf_counter() - left, int(place.group(1)) if place else 0))
            if newcomer.fragment is None:
                break
            await newcomer.poll_fragment()
        done = time.perf_counter() - left
    started = next((t for t, place in timeline if place == 0), done)
    changes = [f"{t:4.1f} s: {'running' if place == 0 else f'number {place}'}" for i, (t, place) in enumerate(timeline)
               if i == 0 or place != timeline[i - 1][1]]
    settings = load_settings({**os.environ, "SOFTMAX_STUDIO_HOSTED": "1"})
    print(f"abandon: {count} visitors started the worst training ({WORST_LINK}) and left; a newcomer's training, "
          "from the last one leaving:\n  " + "\n  ".join(changes)
          + f"\n  started after {started:.1f} s, results after {done:.1f} s "
            f"(the server gives up on a silent page after {settings.abandon_seconds} s)")
    return 0 if "download_model" in newcomer.widgets else 1


def summary(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"n={len(values):3d}  p50 {statistics.median(values):6.2f} s  p95 {p95:6.2f} s  max {values[-1]:6.2f} s"


@contextmanager
def target(url: str | None):
    """(url, a function giving (log path, log text), a function giving the CPU seconds the server's
    pages and its trainings have used); the functions give None where the server is not visible."""
    if url:
        print(f"target: {url} (its settings and log are not visible from here)")
        yield url.rstrip("/"), lambda: None, lambda: None
        return
    env = {"SOFTMAX_STUDIO_HOSTED": "1"}
    settings = load_settings({**os.environ, **env})
    print(f"target: a server started here; max {settings.max_concurrent_trainings} trainings at once, "
          f"{settings.torch_threads()} torch thread(s) each")
    with streamlit_server(env) as server:
        def cpu():
            return cpu_seconds(server.pid), sum(map(cpu_seconds, child_pids(server.pid)))
        yield server.url, lambda: (server.log, server.log.read_text(errors="replace")), cpu


async def main_async(args) -> int:
    print(f"{args.sessions} sessions, {args.epochs}-epoch trainings, {args.predictions} predictions each phase; "
          f"load average here {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    from playwright.async_api import async_playwright

    rates = args.learning_rates or args.sessions
    sessions = [Session(i, round(0.1 + 0.01 * (i % rates), 2)) for i in range(args.sessions)]
    predictors = [Session(args.sessions + i, 0.0) for i in range(args.predictors)]
    gates = [Gate(args.sessions), Gate(args.sessions - 1), Gate(args.sessions)]
    trainings_done = asyncio.Event()  # set once every session has its results (all_trained opens)

    async def everyone(make_user):
        async def done_when_trained():
            await gates[2].open.wait()
            trainings_done.set()
        await asyncio.gather(*(visit(s, make_user(s), args, gates) for s in sessions),
                             *(predict_meanwhile(s, make_user(s), gates[1], trainings_done) for s in predictors),
                             done_when_trained())
    with target(args.url) as (url, read_log, server_cpu):
        if args.warm:
            await warm_up(url, args.warm)
        abandoned = await abandon_phase(url, args.abandon) if args.abandon else 0
        started, cpu_before, own_before = time.perf_counter(), server_cpu(), sum(os.times()[:2])
        samples = []  # (time, server CPU seconds): what the pages and the trainings used while the class trained
        sampler = asyncio.create_task(sample_cpu(server_cpu, samples)) if cpu_before is not None else None
        if args.driver == "websocket":
            await everyone(lambda s: SocketUser(s, url))
        else:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                await everyone(lambda s: BrowserUser(s, browser, url))
                await browser.close()
        took = time.perf_counter() - started
        cpu_after, own = server_cpu(), sum(os.times()[:2]) - own_before
        if sampler is not None:
            sampler.cancel()
        log = read_log()

    print(f"all sessions done in {took:.1f} s; load average now {os.getloadavg()[0]:.1f}")
    first = min((s.started_at for s in sessions if s.started_at), default=0.0)  # the class's first Start
    if cpu_before is not None:  # where the machine's CPU went meanwhile (2 CPUs give 2 s each second)
        print(f"CPU seconds meanwhile: the server's pages {cpu_after[0] - cpu_before[0]:.1f}, its trainings "
              f"{cpu_after[1] - cpu_before[1]:.1f}, this load generator {own:.1f} (real users' browsers run elsewhere)")
        last = max((s.results_at for s in sessions if s.results_at), default=None)
        window = [(at, cpu) for at, cpu in samples if first and last is not None and first <= at <= last]
        if len(window) > 1:
            (t0, c0), (t1, c1) = window[0], window[-1]
            print(f"  from the first Start to the last results ({t1 - t0:.1f} s): the pages {c1[0] - c0[0]:.1f} CPU s "
                  f"({(c1[0] - c0[0]) / (t1 - t0):.2f} cores), the trainings {c1[1] - c0[1]:.1f} CPU s "
                  f"({(c1[1] - c0[1]) / (t1 - t0):.2f} cores)")
    print("\nlatencies (seconds, every session together):")
    actions = {}
    for s in sessions + predictors:
        for action, values in s.latencies.items():
            actions.setdefault(action, []).extend(values)
    for action, values in actions.items():
        print(f"  {action:58s} {summary(values)}")

    waits = [s.results_at - s.started_at for s in sessions if s.results_at and s.started_at]
    if waits:
        print(f"  {'From pressing Start to the results on screen':58s} {summary(waits)}")
        # The fused groups end together: the median falls in the first wave of results or the next.
        came = sorted(s.results_at - first for s in sessions if s.results_at)
        print("  results on screen, seconds after the class's first Start: "
              + " ".join(f"{at:.1f}" for at in came))

    print("\nqueue:")
    queued = [s for s in sessions if s.queue_positions]
    print(f"  {len(queued)} of {len(sessions)} sessions waited in line; places shown: "
          + ", ".join(f"session {s.index}: {'/'.join(map(str, s.queue_positions))}" for s in queued))
    cancels = actions.get("Cancel while queued: page confirms", [])
    print(f"  cancel from the queue: {'tested, ' + summary(cancels) if cancels else 'not tested (the last session was not queued)'}")

    print("\nisolation (each session's Predict page lists the runs it can use):")
    leaks = []
    for s in sessions:
        own = [r for r in s.runs_seen if f"lr {s.lr:g}," in r]
        if len(s.runs_seen) != 1 or len(own) != 1:
            leaks.append(f"session {s.index} (lr {s.lr:g}) sees {s.runs_seen}")
    leaks += [f"visitor {s.index}, who trained nothing, sees {s.runs_seen}" for s in predictors if s.runs_seen]
    print("  " + ("OK: every session sees exactly one run, its own, and the visitors who only predicted none"
                  if not leaks else "FAILED: " + "; ".join(leaks)))

    errors = [f"session {s.index}: {e}" for s in sessions + predictors for e in s.errors]
    tracebacks = log[1].count("Traceback") if log else 0
    print(f"\nerrors: {len(errors)} in the sessions, "
          + (f"{tracebacks} tracebacks in the server log ({log[0]})" if log else "server log not visible"))
    for error in errors:
        print(f"  {error}")
    if args.driver == "websocket":
        # Trainings run one after another from the first Start to the last one's end, which its
        # session sees as it happens (the live view waits for a training about to end), its
        # results a moment later: predictions started in that window had a training beside them.
        last = max((s.results_at for s in sessions if s.results_at), default=0) - 0.5
        during = [(at, seconds) for s in predictors for at, seconds in s.predicted_at if at < last]
        slow = sorted((at - first, seconds) for at, seconds in during if seconds > 1.0)
        print(f"predictions started while trainings ran, answered within 1 s: "
              f"{sum(v <= 1.0 for _, v in during)} of {len(during)}"
              + (f"; p50 {statistics.median(v for _, v in during):.2f} s, max {max(v for _, v in during):.2f} s"
                 if during else "")
              + ("; slower ones started at " + ", ".join(f"+{at:.1f} s ({v:.2f} s)" for at, v in slow)
                 + " after the first Start" if slow else ""))
    else:
        for what, action in (("on screen", "Predict a test image (while trainings run)"),
                             ("server side", "  server side of it, while trainings run (rerun -> script finished)")):
            values = actions.get(action, [])
            print(f"predictions while others train, answered within 1 s ({what}): "
                  f"{sum(v <= 1.0 for v in values)} of {len(values)}")
    return 1 if errors or leaks or tracebacks or abandoned else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", choices=["browser", "websocket"], default="browser",
                        help="Chromium tabs (default), or the app's websocket protocol from Python")
    parser.add_argument("--sessions", type=int, default=8, help="concurrent sessions (default 8)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per training (default 2)")
    parser.add_argument("--learning-rates", type=int, default=0,
                        help="how many learning rates the class's links carry, in turn (default: each session its own; "
                             "1: the whole class on the lesson's lr 0.1)")
    parser.add_argument("--predictions", type=int, default=5, help="predictions per session once trainings are done (default 5)")
    parser.add_argument("--predictors", type=int, default=5,
                        help="visitors who only predict, all the while the sessions train (default 5)")
    parser.add_argument("--warm", type=float, default=8.0,
                        help="seconds between the teacher opening Train and the class arriving (0: a cold server)")
    parser.add_argument("--url", help="drive this running deployment instead of starting a server here")
    parser.add_argument("--abandon", type=int, default=0,
                        help="first, this many visitors start the worst training and disconnect (default 0)")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

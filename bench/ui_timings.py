"""Page redraw and Stop latency.

    .venv/bin/python -m bench.ui_timings

1. Server time of one full script run per page once the data is cached (AppTest, median of 5).
2. In Chromium against `streamlit run app.py`, the server warm (each page opened once before),
   until everything is drawn (the script done, every image loaded, every chart drawn), on the
   page's own clock (median of 5 each):
   - each page opened in a new tab of a browser that has the app's files in its cache, and in
     a browser that never saw the app (a first visit, files downloaded);
   - in a new tab on Home, a click on a page's link: the first time (that page's code still to
     load in this tab: st.plotly_chart's plotly, 4.7 MB, takes ~1.2 s to evaluate here) and again;
   - a full rerun of each page (the 'r' key) from keypress until the script has finished and
     the page is drawn.
3. The first Start after Train opened (its training process warmed up or not) against the next;
   Stop: the job itself (stop() -> finished), and in Chromium from the click on Stop to the
   stopped run's results on screen.
4. Bytes: what a first visit to each page downloads, as sent and gzipped (docs/deploy.md).
"""
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.appserver import VIEWPORT

ROOT = Path(__file__).resolve().parent.parent

PAGES = {"": "The model in three formulas", "dataset": "What an average garment looks like",
         "train": "are in the sidebar", "predict": "Draw a garment on the black square"}
CHARTS = {"dataset": 3}  # plotly charts a page draws at once: a chart not yet mounted can't be missed
WATCH = """() => {
  window.__rerun = undefined;
  const app = document.querySelector('[data-testid=stApp]');
  const started = performance.now();
  let seenRunning = false;
  const observer = new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state !== 'notRunning') seenRunning = true;
    if (seenRunning && state === 'notRunning') {
      observer.disconnect();
      requestAnimationFrame(() => { window.__rerun = performance.now() - started; });  // once drawn
    }
  });
  observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def rerun_ms(page) -> float:
    """Time of a full rerun (Streamlit's 'r' shortcut) until the script has finished."""
    page.evaluate(WATCH)
    page.keyboard.press("r")
    page.wait_for_function("() => window.__rerun !== undefined", timeout=30_000)
    return page.evaluate("() => window.__rerun")


def server_time() -> None:
    from streamlit.testing.v1 import AppTest

    for page in ("home", "dataset", "train", "predict"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        if page != "home":
            at.switch_page(f"app_pages/{page}.py").run()
        at.run()  # caches warm
        times = []
        for _ in range(5):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        print(f"server, one run of {page}: median {1000 * statistics.median(times):.0f} ms")


# Runs in every page before the app's own code: each frame it checks whether the page is
# completely drawn (the script done, `ready` on screen, every image loaded, every chart drawn)
# and keeps the page-clock time at which that became true; anything drawn later (an element
# the script still sends) takes the time back. So the figure is when the page was finished,
# not when this bench looked, and the wait for late elements is not in it.
DRAWN_CLOCK = """() => {
  const CHARTS = '[data-testid=stPlotlyChart], .softmax-chart';  // st.plotly_chart's, ui.chart's
  window.__drawnAt = undefined;
  const drawn = () => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (!window.__ready || !document.body.textContent.includes(window.__ready)) return false;
    const images = [...document.querySelectorAll('[data-testid=stImage] img, .picture-grid img')];
    const charts = document.querySelectorAll(CHARTS);
    const svgs = document.querySelectorAll(CHARTS.split(', ').map((chart) => chart + ' .main-svg').join(', '));
    return images.every((img) => img.complete && img.naturalWidth > 0) && charts.length >= window.__charts
      && charts.length * 2 <= svgs.length;
  };
  const check = () => {
    if (!drawn()) window.__drawnAt = undefined;
    else if (window.__drawnAt === undefined) window.__drawnAt = performance.now();
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}"""
SETTLED_MS = 400  # drawn and unchanged this long: the script sent nothing more


def expect(path: str) -> str:
    """JavaScript that tells DRAWN_CLOCK what /path shows once it is drawn."""
    return f"window.__ready = {PAGES[path]!r}; window.__charts = {CHARTS.get(path, 0)};"


def drawn_at(page, path: str) -> float:
    """The page clock's time (ms) at which /path was completely drawn."""
    settled = page.wait_for_function(
        f"() => {{ {expect(path)} const at = window.__drawnAt;"
        f" return at !== undefined && performance.now() - at > {SETTLED_MS} && at; }}", timeout=60_000, polling=50)
    return settled.json_value()


def timed_page(context):
    page = context.new_page()
    page.add_init_script(f"({DRAWN_CLOCK})();")
    return page


def open_ms(context, url: str, path: str) -> float:
    """A new tab opening /path: from the start of its navigation (the page clock's zero) until
    the page is completely drawn."""
    page = timed_page(context)
    page.goto(f"{url}/{path}")
    took = drawn_at(page, path)
    page.close()
    return took


def click_ms(page, path: str) -> float:
    """A click on /path's link in the navigation: from the click until /path is completely drawn."""
    link = page.locator(f"[data-testid=stTopNavLink][href$='/{path}'], [data-testid=stSidebarNavLink][href$='/{path}']").first
    link.evaluate(f"(link) => {{ {expect(path)} window.__drawnAt = undefined; window.__clickedAt = performance.now();"
                  " link.click(); }")
    return drawn_at(page, path) - page.evaluate("() => window.__clickedAt")


def navigate_ms(context, url: str, path: str) -> tuple[float, float]:
    """A new tab opens Home, then a learner clicks /path's link: the first time in this tab (the
    page's code, plotly's for one, still to load), and again after going back to Home by its link."""
    page = timed_page(context)
    page.goto(url)
    drawn_at(page, "")
    first = click_ms(page, path)
    click_ms(page, "")
    again = click_ms(page, path)
    page.close()
    return first, again


def browser_times() -> None:
    from bench.appserver import chromium, start_server, stop_server, temp_log, wait_until_idle

    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": tempfile.mkdtemp(prefix="softmax-runs-")},
                                 temp_log("ui_timings"))
    try:
        with chromium() as browser:
            def show(what: str, path: str, times: list[float]) -> None:
                print(f"browser, {what} /{path} until all is drawn: median {statistics.median(times):.0f} ms "
                      f"({', '.join(f'{t:.0f}' for t in times)})")

            tabs = browser.new_context(viewport=VIEWPORT)  # one browser: its tabs share the HTTP cache
            for path in PAGES:
                open_ms(tabs, url, path)  # warms the server's caches and the browser's for this page
                show("a new tab of the same browser opening", path, [open_ms(tabs, url, path) for _ in range(5)])
            for path in PAGES:
                times = []
                for _ in range(5):
                    fresh = browser.new_context(viewport=VIEWPORT)  # a browser that never saw the app
                    times.append(open_ms(fresh, url, path))
                    fresh.close()
                show("a first visit (empty browser cache) opening", path, times)
            for path in list(PAGES)[1:]:
                first, again = zip(*(navigate_ms(tabs, url, path) for _ in range(5)))
                show("a new tab on Home, then its link, the first time, to", path, first)
                show("a new tab on Home, then its link, again, to", path, again)
            page = timed_page(tabs)
            for path, ready in PAGES.items():
                page.goto(f"{url}/{path}")
                page.get_by_text(ready).first.wait_for(timeout=60_000)
                wait_until_idle(page)
                page.mouse.click(5, 300)  # focus the page, not a widget, for the shortcut
                times = []
                for _ in range(5):
                    times.append(rerun_ms(page))
                    wait_until_idle(page)
                print(f"browser, full rerun of /{path}: median {statistics.median(times):.0f} ms "
                      f"({', '.join(f'{t:.0f}' for t in times)})")

            page.goto(f"{url}/train")
            page.get_by_text(PAGES["train"]).wait_for(timeout=60_000)
            page.locator(".st-key-cfg_epochs input[type=range]").focus()
            page.keyboard.press("End")
            wait_until_idle(page)
            stops = []
            for _ in range(3):
                page.get_by_role("button", name="Start training").click()
                page.wait_for_function("() => document.body.innerText.includes('Training: epoch 2')", timeout=60_000)
                started = time.perf_counter()
                page.locator(".st-key-stop_job button").first.click()
                page.get_by_text("the weights learned up to the stop are kept").first.wait_for(timeout=10_000)
                stops.append(time.perf_counter() - started)
                wait_until_idle(page)
            print(f"browser, Stop click -> stopped run's results on screen: "
                  f"{', '.join(f'{1000 * s:.0f}' for s in stops)} ms")
    finally:
        stop_server(process)


def transfer_sizes() -> None:
    """What a first visit to each page downloads: as Streamlit sends it (its scripts
    uncompressed, left to a proxy) and gzipped (level 6, as a proxy would)."""
    import gzip

    from bench.appserver import VIEWPORT, chromium, start_server, stop_server, temp_log

    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": tempfile.mkdtemp(prefix="softmax-runs-")},
                                 temp_log("ui_timings"))
    try:
        with chromium() as browser:
            for path in PAGES:
                context = browser.new_context(viewport=VIEWPORT)
                page = timed_page(context)
                responses = []
                page.on("response", lambda response: responses.append(response))
                page.goto(f"{url}/{path}")
                drawn_at(page, path)
                bodies = [response.body() for response in responses if response.status == 200]
                context.close()
                sent, packed = sum(map(len, bodies)), sum(len(gzip.compress(body, 6)) for body in bodies)
                print(f"first visit to /{path}: {len(bodies)} files, {sent / 1e6:.2f} MB as sent, "
                      f"{packed / 1e6:.2f} MB gzipped")
    finally:
        stop_server(process)


def first_training() -> None:
    """The first learner's Start, as the app runs it: a training process started with the
    dataset as Train opens, a few seconds of reading, then Start; from the click to the result,
    against the next Start's."""
    from model.files.data import load_split
    from model.lesson.config import preset
    from model.service.jobs import TrainingQueue
    from model.service.workers import TrainingProcesses

    data = (*load_split("train"), *load_split("test"))
    processes = TrainingProcesses(count=1, threads=1)
    processes.start(data)
    queue = TrainingQueue(max_running=1, processes=processes)
    time.sleep(5)  # the learner reads the Train page
    took = []
    for owner in ("first", "next"):
        started = time.perf_counter()
        assert queue.submit(preset("lesson"), data, owner=owner).wait(120)
        took.append(time.perf_counter() - started)
    processes.close()
    print(f"job, Start -> result, lesson preset in a training process: first {took[0]:.2f} s, next {took[1]:.2f} s")


def job_stop() -> None:
    from model.files.data import load_split
    from model.service.jobs import TrainingQueue
    from model.lesson.config import preset

    data = (*load_split("train"), *load_split("test"))
    queue = TrainingQueue(max_running=1)
    times = []
    for _ in range(5):
        job = queue.submit(preset("lesson", epochs=50), data)
        while len(job.snapshot().points) < 3:
            time.sleep(0.01)
        started = time.perf_counter()
        job.stop()
        job.wait(5)
        times.append(time.perf_counter() - started)
    print(f"job, stop() -> training finished with its weights: median {1000 * statistics.median(times):.1f} ms, "
          f"max {1000 * max(times):.1f} ms")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["server", "job", "browser", "bytes"]
    if "server" in parts:
        server_time()
    if "job" in parts:
        first_training()
        job_stop()
    if "browser" in parts:
        browser_times()
    if "bytes" in parts:
        transfer_sizes()

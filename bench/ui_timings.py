"""Page redraw and Stop latency.

    .venv/bin/python -m bench.ui_timings

1. Server time of one full script run per page once the data is cached (AppTest, median of 5).
2. In Chromium against `streamlit run app.py`, the server warm (each page opened once before):
   opening each page in a new tab, from navigation until everything is drawn (the script done,
   every image loaded, every chart drawn; median of 5), in an open tab from a click on a page's
   link on Home until it is drawn (median of 5), and a full rerun of each page (the 'r' key)
   from keypress until the script has finished and the page is drawn (median of 5).
3. Stop: the job itself (stop() -> finished), and in Chromium from the click on Stop to the
   stopped run's results on screen.
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


DRAWN = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const images = [...document.querySelectorAll('[data-testid=stImage] img')];
  const charts = document.querySelectorAll('[data-testid=stPlotlyChart]');
  const drawn = document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg');
  return images.every((img) => img.complete && img.naturalWidth > 0) && charts.length * 2 <= drawn.length;
}"""


def open_ms(browser, url: str, path: str, ready: str) -> float:
    """A new tab opening /path: from navigation until the page is completely drawn."""
    page = browser.new_page(viewport=VIEWPORT)
    started = time.perf_counter()
    page.goto(f"{url}/{path}")
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # the script may still be sending elements below
    page.wait_for_function(DRAWN, timeout=60_000, polling=50)
    took = time.perf_counter() - started
    page.close()
    return 1000 * took


def navigate_ms(page, url: str, path: str, ready: str) -> float:
    """In an open tab on Home, a click on the page's link in the navigation: from the click until
    the page is completely drawn (the app is loaded already, as when a learner moves on)."""
    page.goto(url)
    page.get_by_text(PAGES[""]).first.wait_for(timeout=60_000)
    page.wait_for_function(DRAWN, timeout=60_000, polling=50)
    started = time.perf_counter()
    page.locator(f"[data-testid=stTopNavLink][href$='/{path}'], [data-testid=stSidebarNavLink][href$='/{path}']").first.click()
    page.get_by_text(ready).first.wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # as open_ms: the script may still be sending elements below
    page.wait_for_function(DRAWN, timeout=60_000, polling=50)
    return 1000 * (time.perf_counter() - started)


def browser_times() -> None:
    from bench.appserver import chromium, start_server, stop_server, temp_log, wait_until_idle

    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": tempfile.mkdtemp(prefix="softmax-runs-")},
                                 temp_log("ui_timings"))
    try:
        with chromium() as browser:
            for path, ready in PAGES.items():
                open_ms(browser, url, path, ready)  # warms the server's caches for this page
                times = [open_ms(browser, url, path, ready) for _ in range(5)]
                print(f"browser, opening /{path} in a new tab until all is drawn: median {statistics.median(times):.0f} ms "
                      f"({', '.join(f'{t:.0f}' for t in times)})")
            page = browser.new_page(viewport=VIEWPORT)
            for path, ready in list(PAGES.items())[1:]:
                times = [navigate_ms(page, url, path, ready) for _ in range(5)]
                print(f"browser, from Home to /{path} by its link until all is drawn: median {statistics.median(times):.0f} ms "
                      f"({', '.join(f'{t:.0f}' for t in times)})")
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
    parts = sys.argv[1:] or ["server", "job", "browser"]
    if "server" in parts:
        server_time()
    if "job" in parts:
        job_stop()
    if "browser" in parts:
        browser_times()

"""Start-up time: from `streamlit run app.py` to the first page's content visible in Chromium.

    .venv/bin/python -m bench.startup [runs]

Chromium is started first, so only the app's own start-up is timed. Each run starts a fresh
server (cold Python imports, nothing cached), as a user's `streamlit run` does. Runs both the
default command (with Streamlit's file watcher, which walks the checkout) and the one with
`--server.fileWatcherType none`. Target: under 5 s.
"""
import statistics
import sys
import tempfile
import time

from bench.appserver import VIEWPORT, chromium, start_server, stop_server, temp_log

FIRST_CONTENT = "The model in three formulas"


def once(browser, watch_files: bool) -> tuple[float, float]:
    page = browser.new_page(viewport=VIEWPORT)
    started = time.perf_counter()
    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": tempfile.mkdtemp(prefix="softmax-runs-")},
                                temp_log("startup"), watch_files=watch_files)
    healthy = time.perf_counter() - started
    try:
        page.goto(url)
        page.get_by_text(FIRST_CONTENT).wait_for(timeout=60_000)
        return healthy, time.perf_counter() - started
    finally:
        page.close()
        stop_server(process)


def main(runs: int = 3) -> None:
    with chromium() as browser:
        for watch in (True, False):
            label = "streamlit run app.py" + ("" if watch else " --server.fileWatcherType none")
            results = [once(browser, watch) for _ in range(runs)]
            for healthy, visible in results:
                print(f"{label}: server healthy {healthy:.2f} s, first page visible {visible:.2f} s")
            print(f"{label}: median first page visible {statistics.median(v for _, v in results):.2f} s "
                  f"(target < 5 s)\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

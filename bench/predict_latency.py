"""Draw -> prediction latency on the Predict page.

    .venv/bin/python -m bench.predict_latency [strokes]

1. Server side: a 280x280 canvas PNG -> decode, preprocess, predict, and the two plotly
   figures serialised as Streamlit sends them (median of 50).
2. End to end in Chromium against `streamlit run app.py`: from the mouse-up that ends a
   stroke to the new prediction on screen, split into "canvas sends the drawing" and
   "server + redraw". Strokes are 0.4 s apart, as a person draws. Target: under 200 ms.
"""
import io
import statistics
import sys
import tempfile
import time


SEEN = """(n) => { const e = document.querySelector('.st-key-prediction');
  if (e && e.innerText.includes('(' + n + ' stroke')) { window.__seen = performance.now(); return true; }
  return false; }"""
RECORD = """() => {
  document.addEventListener('mouseup', () => { window.__up = performance.now(); }, true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) { window.__sent = performance.now(); return send.call(this, d); };
}"""


def canvas_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(image).line([(84, 42), (196, 42), (196, 252), (162, 252), (140, 112), (118, 252), (84, 252),
                                (84, 42)], fill=(255, 255, 255, 255), width=24)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def server_side(repeats: int = 50) -> None:
    import plotly.io as pio

    from model.files import checkpoint
    from model.files.predict import predict_bytes
    from ui.figures import heatmap_figure, probability_figure

    classifier, data = checkpoint.load(), canvas_png()
    timings = {"decode + preprocess + predict": [], "+ probability and contribution figures": []}
    for _ in range(repeats + 1):
        started = time.perf_counter()
        prediction = predict_bytes(classifier, data)
        predicted = time.perf_counter()
        pio.to_json(probability_figure(prediction.probabilities), validate=False)
        pio.to_json(heatmap_figure(classifier.contributions(prediction.preprocessed.image28, prediction.label)),
                    validate=False)
        done = time.perf_counter()
        timings["decode + preprocess + predict"].append(predicted - started)
        timings["+ probability and contribution figures"].append(done - started)
    for name, values in timings.items():
        print(f"server side, {name}: median {1000 * statistics.median(values[1:]):.1f} ms")


def end_to_end(strokes: int) -> None:
    from bench.appserver import VIEWPORT, chromium, start_server, stop_server, temp_log

    process, url = start_server({"SOFTMAX_STUDIO_RUNS_DIR": tempfile.mkdtemp(prefix="softmax-runs-")},
                                 temp_log("predict_latency"))
    rows = []
    try:
        with chromium() as browser:
            page = browser.new_page(viewport=VIEWPORT)
            page.add_init_script(f"({RECORD})()")
            page.goto(f"{url}/predict")
            canvas = page.locator("canvas.upper-canvas")
            canvas.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            box = canvas.bounding_box()
            for n in range(1, strokes + 1):
                y = box["y"] + box["height"] * (0.1 + 0.8 * (n % 10) / 10)
                page.mouse.move(box["x"] + box["width"] * 0.2, y)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=8)
                page.mouse.up()
                page.wait_for_function(SEEN, arg=n, timeout=10_000, polling="raf")
                rows.append(page.evaluate("() => [window.__seen - window.__up, window.__sent - window.__up]"))
                page.wait_for_timeout(400)
    finally:
        stop_server(process)
    total = [r[0] for r in rows]
    print(f"\nend to end, stroke end -> prediction on screen, {len(rows)} strokes (ms): "
          + ", ".join(f"{t:.0f}" for t in total))
    print(f"  median {statistics.median(total):.0f} ms, 90th percentile {sorted(total)[int(0.9 * (len(total) - 1))]:.0f} ms"
          f", max {max(total):.0f} ms (target < 200 ms)")
    print(f"  of which the canvas sending the drawing: median {statistics.median(r[1] for r in rows):.0f} ms; "
          f"server + redraw: median {statistics.median(r[0] - r[1] for r in rows):.0f} ms")


if __name__ == "__main__":
    server_side()
    end_to_end(int(sys.argv[1]) if len(sys.argv) > 1 else 10)

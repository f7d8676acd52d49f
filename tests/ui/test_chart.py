"""ui.chart: a figure reaches the browser whole (its traces, at its height, in the app's look),
and a trace the basic bundle can't draw is refused at once, on the server."""
import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest


def app(kind):
    import numpy as np
    import plotly.graph_objects as go

    from ui import chart

    x = np.arange(5)
    trace = go.Heatmap(z=np.eye(3)) if kind == "heatmap" else go.Bar(x=x, y=x ** 2, name="squares")
    chart.show(go.Figure(trace, layout=dict(height=333)), key="squares")


def sent(at: AppTest) -> tuple[dict, dict]:
    (element,) = at.get("bidi_component")
    data = json.loads(element.proto.json)
    return data, json.loads(data["figure"])


def numbers(array) -> np.ndarray:
    """An array as plotly.js gets it: plain numbers, or base64 bytes with their dtype."""
    if isinstance(array, list):
        return np.asarray(array)
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])


def test_the_figure_arrives_with_its_traces_height_and_the_apps_look():
    from ui import chart

    at = AppTest.from_function(app, args=("bar",), default_timeout=30).run()
    assert not at.exception
    data, figure = sent(at)
    (bar,) = figure["data"]
    assert bar["type"] == "bar" and bar["name"] == "squares"
    assert numbers(bar["y"]).tolist() == [0, 1, 4, 9, 16]
    assert figure["layout"]["height"] == 333
    # Streamlit's own template colours are placeholders its chart element swaps; ours are real.
    assert figure["layout"]["template"] == chart.TEMPLATE
    assert figure["layout"]["template"]["layout"]["yaxis"]["automargin"] is True
    assert data["failed"] == "This chart could not load. Reload the page to try again."


def test_the_failure_message_is_in_the_readers_language():
    at = AppTest.from_function(app, args=("bar",), default_timeout=30)
    at.query_params["lang"] = "zh"
    at.run()
    assert sent(at)[0]["failed"] == "图表未能加载，请刷新页面重试。"


def test_a_trace_outside_the_basic_bundle_is_refused_by_name():
    with pytest.raises(ValueError, match=r"not \['heatmap'\]: use st.plotly_chart"):
        app("heatmap")


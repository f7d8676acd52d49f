"""Draws a plotly figure of bars and lines with plotly.js's basic bundle (bar, scatter, pie:
1.2 MB, in static/) instead of st.plotly_chart's full one (4.7 MB: every trace type, maps,
3-D). A browser spends 0.75-1.2 s evaluating the full bundle in each new tab, and Streamlit shows
none of a page below its first chart until that is done; the basic bundle takes ~0.2 s and
draws each chart in its place while the rest of the page is already up.
"""
from __future__ import annotations

import json

import streamlit as st

from ui.i18n import t

# Streamlit's light theme, as st.plotly_chart draws it: transparent, grey grid, its text colour.
_AXIS = dict(gridcolor="#e6eaf1", linecolor="#e6eaf1", zerolinecolor="#e6eaf1", automargin=True,
             title=dict(font=dict(color="#808495")), tickfont=dict(color="#808495"))
TEMPLATE = dict(layout=dict(
    paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color="#31333f", size=12),
    xaxis=_AXIS | dict(showgrid=False), yaxis=_AXIS,
    hoverlabel=dict(bgcolor="#ffffff", bordercolor="#e6eaf1", font=dict(color="#31333f")),
    legend=dict(font=dict(color="#31333f"))))
TRACES = {"bar", "scatter", "pie"}  # what the basic bundle draws

# The renderer runs when the chart mounts and again when its figure changes.
_JS = """
function plotly() {
  window.softmaxStudioPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = new URL('app/static/plotly-basic.min.js', document.baseURI).href;
    script.onload = () => resolve(window.Plotly);
    script.onerror = reject;
    document.head.appendChild(script);
  });
  return window.softmaxStudioPlotly;
}
export default function ({ parentElement, data }) {
  const div = parentElement.querySelector('.softmax-chart');
  // Every call returns the same cleanup, whether or not it redrew: whichever Streamlit keeps
  // for the unmount frees the plot with the bundle that drew it.
  const cleanup = () => { div.resizer?.disconnect(); div.plotly?.purge(div); };
  if (div.figureJson === data.figure) return cleanup;
  div.figureJson = data.figure;
  const { data: traces, layout } = JSON.parse(data.figure);
  plotly().then((Plotly) => {
    if (div.figureJson !== data.figure) return;  // a newer figure came meanwhile
    div.plotly = Plotly;
    Plotly.react(div, traces, layout, {displayModeBar: false, responsive: true});
    if (!div.resizer) {
      div.resizer = new ResizeObserver(() => div.isConnected && Plotly.Plots.resize(div));
      div.resizer.observe(div);
    }
  }, () => { div.textContent = data.failed; });
  return cleanup;
}
"""
_CHART = st.components.v2.component("softmax_studio.chart", html='<div class="softmax-chart"></div>', js=_JS,
                                    isolate_styles=False)


def show(fig, key: str) -> None:
    """Draw `fig` (bar, scatter and pie traces only) as wide as its container, at its layout's height."""
    kinds = {trace.type for trace in fig.data}
    if not kinds <= TRACES:
        raise ValueError(f"ui.chart draws {sorted(TRACES)}, not {sorted(kinds - TRACES)}: use st.plotly_chart")
    figure = json.loads(fig.to_json())  # plotly's encoder: numpy arrays as typed arrays
    figure["layout"]["template"] = TEMPLATE
    _CHART(data={"figure": json.dumps(figure, separators=(",", ":")), "failed": t("common.chart_failed")},
           key=key, height=fig.layout.height)

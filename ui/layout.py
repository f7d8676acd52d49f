"""What every page looks like: the header (and, while this session trains, a line about it),
plain text for markdown places, tables, class names and where each page lives."""
from __future__ import annotations

import re
import unicodedata

import streamlit as st

from model import CLASSES, CLASSES_ZH
from model.files.classes import a_or_an
from model.service.jobs import Status
from ui import i18n
from ui.i18n import t
from ui.session import active_jobs

PAGES = {"home": "app_pages/home.py", "dataset": "app_pages/dataset.py", "train": "app_pages/train.py",
         "predict": "app_pages/predict.py"}


def run_name(record) -> str:
    """A saved run's name in this run's language. A default name ("concise, lr 0.1, 10 epochs,
    84.1%") was written in the language of the page that trained it, so it is made again in
    this one; a name the learner gave stays as written."""
    from model.service.runs import default_name

    for stopped, diverged in ((False, False), (True, False), (False, True)):
        made = default_name(record.config, record.history, record.test_acc, stopped, diverged)
        if record.name in (i18n.explain(made, lang) for lang in i18n.LANGUAGES):
            return i18n.explain(made)
    return record.name


def run_names(records) -> dict[str, str]:
    """Each run's name as run_name shows it, by id. Runs that would show the same name (two
    trainings of one setup end alike) are numbered by age, "(2)" for the second, so that a
    menu of them can tell them apart: in front, where a narrow menu that cuts a long name
    short still shows it."""
    names = {record.id: run_name(record) for record in records}
    seen: dict[str, int] = {}
    for record in sorted(records, key=lambda r: r.created):
        name = names[record.id]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[record.id] = f"({seen[name]}) {name}"
    return names


def class_name(label: int, article: bool = False, lang: str | None = None) -> str:
    """A class's name in this run's language or `lang` (d2l-zh's names in Chinese); `article`:
    "a Coat", "an Ankle boot" in English, for a sentence."""
    if (lang or i18n.language()) == "zh":
        return CLASSES_ZH[int(label)]
    return a_or_an(CLASSES[int(label)]) if article else CLASSES[int(label)]


# Pictures are sent small (ui.pictures) and enlarged here without smoothing: pixels stay squares.
_CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 3rem;}
[data-testid="stImage"] img, .picture-grid img {image-rendering: pixelated;}
.picture-grid {display: flex; flex-wrap: wrap; gap: 0.5rem 1rem;}
.picture-grid figure {margin: 0; width: var(--picture-width);}
.picture-grid img {display: block; width: 100%; height: auto;}
.picture-grid figcaption {font-size: 0.875rem; opacity: 0.6; text-align: center; overflow-wrap: anywhere;}
/* Streamlit stacks columns below a 640 px window. With the sidebar open a tablet's main block is
   as narrow (~525 px at 1024), and columns side by side there cut off Predict's 280 px canvas,
   the language toggle and the Train buttons: they stack as on a phone wherever the main block is
   narrower than 740 px, where the canvas and the language toggle first fit their columns. */
[data-testid="stMainBlockContainer"] {container-type: inline-size;}
@container (max-width: 739px) {[data-testid="stColumn"] {min-width: calc(100% - 1.5rem);}}
/* Stacked, Predict's full answer lands below the canvas, out of sight while drawing: a one-line
   answer shows above the canvas instead, of a fixed height, so the canvas doesn't move under the
   finger when the answer arrives. */
.st-key-answer_glance {min-height: 2.4rem;}
@container (min-width: 740px) {.st-key-answer_glance {display: none;}}
/* Predict's "why" pair: 6x28 px each, 8x28 where the column holds both, 5x28 or 4x28 where it is narrower. */
.st-key-why_pair {container-type: inline-size;}
@container (min-width: 464px) {.st-key-why_pair .picture-grid {--picture-width: 224px !important;}}
@container (max-width: 351px) {.st-key-why_pair .picture-grid {--picture-width: 140px !important;}}
@container (max-width: 295px) {.st-key-why_pair .picture-grid {--picture-width: 112px !important;}}
.katex-display {overflow-x: auto; overflow-y: hidden;}  /* a formula wider than a phone scrolls, not cut off */
/* A table too, its cells unbroken; the runs table's names wrap, in a column of their own. */
[data-testid="stMarkdownContainer"] table {display: block; max-width: 100%; overflow-x: auto;
  /* A shadow at an edge with more of the table beyond it, so a phone shows there is more to
     scroll to: the white covers scroll with the cells and hide each shadow at its end. */
  background: linear-gradient(to right, #fff 30%, #fff0) left / 2rem 100% no-repeat local,
    linear-gradient(to left, #fff 30%, #fff0) right / 2rem 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, #0003, #0000) left / 0.75rem 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, #0003, #0000) right / 0.75rem 100% no-repeat scroll;}
[data-testid="stMarkdownContainer"] :is(th, td) {white-space: nowrap;}
.st-key-runs_table td:first-child {white-space: normal; min-width: 12rem;}
</style>"""


def header(page: str, watch_training: bool = True) -> None:
    """The same header on every page: a title and one line on what the page teaches (the
    catalog's "<page>.title" and "<page>.lead"), and the language toggle. While this session trains,
    every page tells the queue someone is still here (the Train page does so from its live
    view: `watch_training=False`)."""
    lang = i18n.language()
    i18n.keep_in_url(lang)
    st.html(_CSS)
    title_col, toggle_col = st.columns([5, 1.2], vertical_alignment="center")
    title_col.title(t(f"{page}.title"))
    with toggle_col:
        i18n.language_toggle(lang)
    lead = t(f"{page}.lead")
    st.markdown(f"<p style='font-size:1.05rem;color:#5f6368;margin-top:-0.6rem'>{lead}</p>",
                unsafe_allow_html=True)
    jobs = active_jobs()
    for job in jobs:
        job.touch()
    if jobs and watch_training:
        training_in_background(jobs)


@st.fragment(run_every=2)
def training_in_background(jobs: list) -> None:
    """A line about this session's training (or sweep) while another page is open; its polls
    keep the jobs from being taken for abandoned (model.service.jobs) while the learner is here."""
    for job in jobs:
        job.touch()
    if all(job.finished for job in jobs):
        st.rerun()  # the whole page, without this line: the runs are saved and listed
    snap = jobs[0].snapshot()
    if snap.status is Status.QUEUED:
        st.caption(t("common.background_queued", position=snap.position))
    elif snap.status is Status.RUNNING:
        st.caption(t("common.background_running", fraction=snap.fraction))


def plain(text) -> str:
    """`text` for a markdown context, shown exactly as typed: every mark that can start markup
    is backslash-escaped, so a run or file name can't become a link, an image the browser
    fetches, HTML, maths, emphasis or a colour; line breaks and control characters become
    spaces, so it stays on one line (where list and heading marks would need a line start)."""
    out = []
    for char in str(text):
        if char in _PUNCTUATION:
            out.append("\\" + char)
        elif char in "\r\n\t" or unicodedata.category(char) in ("Cc", "Cf"):
            out.append(" ")
        else:
            out.append(char)
    # Markdown links bare URLs and e-mail addresses after escapes are resolved; an invisible
    # word joiner inside "http:", "www." and "@" keeps them text.
    return _AUTOLINK.sub("\u2060", "".join(out))


_PUNCTUATION = frozenset("\\`*_{}[]()<>#!|~$:")

_AUTOLINK = re.compile(r"(?i)(?<=https)(?=\\:)|(?<=http)(?=\\:)|(?<=ftp)(?=\\:)|(?<=mailto)(?=\\:)|(?<=www)(?=\.)|(?<=@)")


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-style table; every cell is plain text, so a run name can't break the layout."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(plain(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)

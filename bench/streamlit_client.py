"""A user of a Streamlit app without a browser: Streamlit's own websocket protocol, spoken
from Python, so a load test can run many sessions on a machine whose CPUs a browser each
would eat.

It sends what the app's frontend sends (`BackMsg.rerun_script` with the page, the query
string and widget states, fragment reruns for `st.fragment(run_every=...)`) and reads what the
server sends back (`ForwardMsg`: elements, navigation, script finished). Widgets are found by
their `key`, the way the app's tests find them. Only what this user set is sent (buttons as
triggers); the server keeps every other widget's value from the run before, as it does for a
browser's.

    async with StreamlitClient("http://localhost:8501") as app:
        await app.open("train", query="preset=lesson&epochs=2")
        await app.click("start")
"""
from __future__ import annotations

import asyncio
import re
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
KEY = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")  # keyed widgets' ids end with their key


class AppError(RuntimeError):
    """The app showed an exception, or a script run ended in a way a user would see as broken."""


class StreamlitClient:
    def __init__(self, url: str, timeout: float = 120.0):
        self.ws_url = re.sub(r"^http", "ws", url.rstrip("/")) + "/_stcore/stream"
        self.timeout = timeout
        self.pages: dict[str, str] = {}          # url path ("train") -> page script hash
        self.page_hash = ""
        self.query = ""
        self.elements: list = []                 # the last script run's elements (protobuf Element)
        self.widgets: dict[str, str] = {}        # key -> widget id, as last drawn
        self.widget_fragments: dict[str, str] = {}  # key -> the id of the fragment it sits in, if any
        self.states: dict[str, WidgetState] = {}  # key -> the value this user has set
        self.fragment: tuple[str, float] | None = None  # (fragment id, interval) of a run_every fragment
        self._drawn: dict[tuple, int] = {}       # delta path -> index in self.elements
        self._finished: asyncio.Queue = asyncio.Queue()
        self._ws = None
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> "StreamlitClient":
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=self.timeout)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        self._reader.cancel()
        await self._ws.close()

    # --- what a user does --------------------------------------------------------------------

    async def open(self, page: str, query: str = "") -> float:
        """Go to a page (its url path, "" for the home page), as a link or the top bar does."""
        self.query, self.states, self.fragment = query, {}, None
        if page in self.pages:
            self.page_hash = self.pages[page]
            return await self._rerun(page_script_hash=self.page_hash)
        return await self._rerun(page_name=page)  # the first visit: the server resolves the name

    async def click(self, key: str) -> float:
        """Press the button with this key; returns seconds until the script run finished. A button
        inside a fragment reruns that fragment only, as the browser asks."""
        return await self._rerun(extra=[WidgetState(id=self.widget_id(key), trigger_value=True)],
                                 fragment_id=self.widget_fragments.get(key, ""))

    async def choose(self, key: str, label_part: str) -> float:
        """Pick the option whose label contains `label_part` in a segmented control or pills."""
        element = self.element(key)
        # The frontend sends an option as its formatted label: icon, a space, then the text.
        options = [f"{o.content_icon} {o.content}" if o.content_icon else o.content for o in element.options]
        chosen = next(o for o in options if label_part in o)
        self.states[key] = WidgetState(id=self.widget_id(key))
        self.states[key].string_array_value.data.append(chosen)
        return await self._rerun()

    async def poll_fragment(self) -> float:
        """One rerun of the page's run_every fragment, as the frontend sends it on its timer."""
        fragment_id, interval = self.fragment
        await asyncio.sleep(interval)
        return await self._rerun(fragment_id=fragment_id, is_auto_rerun=True)

    # --- what the user sees ------------------------------------------------------------------

    def widget_id(self, key: str) -> str:
        if key not in self.widgets:
            raise AppError(f"no widget with key {key!r} on the page")
        return self.widgets[key]

    def element(self, key: str):
        """The widget's own message (a ButtonGroup, a Radio, ...)."""
        for element in self.elements:
            widget = getattr(element, element.WhichOneof("type") or "", None)
            if getattr(widget, "id", None) == self.widgets.get(key):
                return widget
        raise AppError(f"no element with key {key!r} on the page")

    def text(self) -> str:
        """Everything the last run drew, as protobuf text (markdown, captions, labels, options)."""
        return "\n".join(str(e) for e in self.elements if e.WhichOneof("type") != "plotly_chart")

    def has(self, kind: str) -> bool:
        return any(e.WhichOneof("type") == kind for e in self.elements)

    # --- the protocol ------------------------------------------------------------------------

    async def _rerun(self, extra=(), fragment_id: str = "", **fields) -> float:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        state.page_script_hash = fields.pop("page_script_hash", self.page_hash)
        for name, value in fields.items():
            setattr(state, name, value)
        state.fragment_id = fragment_id
        state.widget_states.widgets.extend([*self.states.values(), *extra])
        started = time.perf_counter()
        try:
            await self._ws.send(message.SerializeToString())
        except websockets.ConnectionClosed:
            raise AppError("the server closed the connection") from None
        status = await asyncio.wait_for(self._finished.get(), self.timeout)
        took = time.perf_counter() - started
        if status is None:
            raise AppError("the server closed the connection")
        if status not in DONE:
            raise AppError(f"the script run ended with {ForwardMsg.ScriptFinishedStatus.Name(status)}")
        if self.has("exception"):
            raise AppError("the page shows an exception: " + self.text()[:300])
        return took

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                self._handle(ForwardMsg.FromString(frame))
        except websockets.ConnectionClosed:
            pass
        await self._finished.put(None)  # whoever waits for a run to finish hears it won't

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session" and not message.metadata.run.fragment_ids:
            # A whole-page run starts (asked for, or an st.rerun()): the page is drawn afresh.
            self.elements, self._drawn, self.widgets, self.widget_fragments = [], {}, {}, {}
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            # A fragment rerun redraws its own part: replace what sat at the same place.
            path = tuple(message.metadata.delta_path)
            if path in self._drawn:
                self.elements[self._drawn[path]] = element
            else:
                self._drawn[path] = len(self.elements)
                self.elements.append(element)
            widget = getattr(element, element.WhichOneof("type") or "", None)
            match = KEY.match(getattr(widget, "id", "") or "")
            if match:
                self.widgets[match.group(1)] = widget.id
                self.widget_fragments[match.group(1)] = message.delta.fragment_id
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in message.navigation.app_pages}
            self.page_hash = message.navigation.page_script_hash  # the page st.navigation ran
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.fragment = (message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "script_finished" and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self._finished.put_nowait(message.script_finished)

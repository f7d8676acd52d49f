"""The download, end to end against a local web server serving the real IDX files: progress is
reported, a dead mirror falls through to the next, a cut-off or wrong file is rejected, an
interrupted download leaves nothing half-made, and what was downloaded loads and trains."""
import hashlib
import http.server
import threading

import numpy as np
import pytest

from model.files import data
from model.files.data import DEBIAN_DIR, DatasetError, download, load_split_numpy


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, {name: md5}, behaviour) of a local server of the four real .gz files. Set
    behaviour["cut"] to a file name to have it send half of that file and hang up, or
    behaviour["swap"] to serve another file's bytes under that name."""
    files = {name: (DEBIAN_DIR / name).read_bytes() for name in data.DOWNLOADS if (DEBIAN_DIR / name).exists()}
    if len(files) < 4:
        pytest.skip("needs Debian's dataset-fashion-mnist files")
    behaviour = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.rsplit("/", 1)[-1]
            if name not in files:
                self.send_error(404)
                return
            body = files["t10k-labels-idx1-ubyte.gz" if behaviour.get("swap") == name else name]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2] if behaviour.get("cut") == name else body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    md5s = {name: hashlib.md5(body).hexdigest() for name, body in files.items()}  # Debian recompresses them
    yield f"http://127.0.0.1:{server.server_address[1]}/", md5s, behaviour
    server.shutdown()


DEAD = "http://127.0.0.1:9/"  # nothing listens on the discard port


def test_the_download_falls_through_a_dead_mirror_reports_progress_and_gives_the_dataset(tmp_path, served,
                                                                                       monkeypatch):
    url, md5s, _ = served
    seen = {}
    raw = download(tmp_path, lambda name, done, total: seen.setdefault(name, []).append((done, total)),
                   mirrors=(DEAD, url), files=md5s)
    assert sorted(p.name for p in raw.iterdir()) == sorted(md5s)
    for name, calls in seen.items():
        assert calls[-1][0] == calls[-1][1] == (raw / name).stat().st_size  # progress reached the whole file
        assert [done for done, _ in calls] == sorted(done for done, _ in calls)
        assert len(calls) >= (raw / name).stat().st_size // 65536  # one report per 64 KB chunk
    assert set(seen) == set(md5s)

    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "cache")
    images, labels = load_split_numpy("train", root=tmp_path)  # torchvision's layout, found and checked
    assert images.shape == (60_000, 28, 28) and int(labels.max()) == 9

    from model.lesson.config import preset
    from model.lesson.train import train

    test_images, test_labels = load_split_numpy("test", root=tmp_path)
    import torch
    result = train(preset("lesson", epochs=1, impl="scratch"), torch.from_numpy(images),
                   torch.from_numpy(labels.astype(np.int64)), torch.from_numpy(test_images),
                   torch.from_numpy(test_labels.astype(np.int64)))
    assert result.history[-1]["test_acc"] > 0.75  # it trains on what was downloaded


@pytest.mark.parametrize("fault, reason", [("cut", "cut off"), ("swap", "checksum mismatch")])
def test_a_cut_off_or_wrong_file_is_rejected_and_nothing_half_made_is_left(tmp_path, served, fault, reason):
    url, md5s, behaviour = served
    name = "t10k-images-idx3-ubyte.gz"
    behaviour[fault] = name
    try:
        with pytest.raises(DatasetError, match=f"{name}.*{reason}.*apt-get install"):
            download(tmp_path, mirrors=(url,), files={name: md5s[name]})
    finally:
        behaviour.clear()
    raw = tmp_path / "FashionMNIST" / "raw"
    assert list(raw.iterdir()) == []  # no .part file, no damaged .gz
    download(tmp_path, mirrors=(url,), files={name: md5s[name]})  # the next try gets it whole
    assert [p.name for p in raw.iterdir()] == [name]


def test_every_mirror_dead_is_one_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="Downloading t10k-labels-idx1-ubyte.gz failed.*internet connection"):
        download(tmp_path, mirrors=(DEAD, DEAD), files={"t10k-labels-idx1-ubyte.gz": "0" * 32})
    assert list((tmp_path / "FashionMNIST" / "raw").iterdir()) == []


def test_the_mirrors_and_checksums_are_torchvisions():
    from torchvision.datasets import FashionMNIST

    assert data.MIRRORS == tuple(FashionMNIST.mirrors)
    assert data.DOWNLOADS == dict(FashionMNIST.resources)


def test_the_apps_download_button_gets_the_dataset_and_the_app_then_trains_on_it(tmp_path, served, monkeypatch):
    """A newcomer without Debian's package: every page says the dataset is missing; the Download
    button (here pointed at the local server) fetches it, and Train then trains on it."""
    from tests.app_pages.conftest import assert_clean, finish_training, open_page
    from ui import resources

    url, md5s, _ = served
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian-package")
    monkeypatch.setattr(data, "PROJECT_DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(data, "MIRRORS", (DEAD, url))
    monkeypatch.setattr(data, "DOWNLOADS", md5s)
    monkeypatch.setenv("SOFTMAX_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    resources.settings_from_env.clear()
    resources.disk_store.clear()
    resources.dataset_split.clear()
    try:
        at = open_page("train")
        assert any("Fashion-MNIST is not on this server" in e.value for e in at.error)
        at.button(key="download_dataset").click().run()
        assert_clean(at)
        assert sorted(p.name for p in (tmp_path / "data" / "FashionMNIST" / "raw").iterdir()) == sorted(md5s)
        assert not at.error and at.button(key="start")
        at.radio(key="cfg_impl").set_value("scratch")
        at.slider(key="cfg_epochs").set_value(1).run()
        at.button(key="start").click().run()
        finish_training(at)
        metrics = {m.label: m.value for m in at.metric}
        assert float(metrics["Test accuracy"].rstrip("%")) > 75
    finally:
        for cache in (resources.dataset_split, resources.settings_from_env, resources.disk_store):
            cache.clear()

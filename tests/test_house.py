"""The house rules a change could quietly break: the app touches no private Streamlit API, the
page folder isn't the one that switches Streamlit to its old multipage mode, and imports go one
way (pages -> ui -> model; bench never imports tests)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
ENGINE = sorted((ROOT / "model").rglob("*.py"))
# Streamlit's public API is `streamlit` (st.*), `streamlit.testing` and its components API;
# anything under runtime, web, elements, ... or with a leading underscore is not.
PRIVATE = re.compile(r"(?:from|import)\s+streamlit\.(?!testing\b|components\b)\w+|\bst\._\w|streamlit\.\w+\._|PagesManager")


def imports(path: Path) -> set[str]:
    return set(re.findall(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text(), flags=re.M))


def test_the_app_touches_no_private_streamlit_api():
    offenders = [f"{p.relative_to(ROOT)}: {m.group()}" for p in APP + ENGINE for m in PRIVATE.finditer(p.read_text())]
    assert offenders == []


def test_there_is_no_pages_folder_to_switch_streamlit_to_its_old_multipage_mode():
    assert not (ROOT / "pages").exists()
    routed = re.findall(r'st\.Page\("([^"]+)"', (ROOT / "app.py").read_text())
    assert routed and all(path.startswith("app_pages/") and (ROOT / path).is_file() for path in routed)


def test_imports_go_one_way():
    for path in ENGINE:
        assert not {m for m in imports(path) if m.split(".")[0] in ("streamlit", "ui", "app_pages")}, path
    for path in sorted((ROOT / "ui").glob("*.py")):
        assert not {m for m in imports(path) if m.split(".")[0] == "app_pages"}, path
    for path in sorted((ROOT / "bench").glob("*.py")):
        assert not {m for m in imports(path) if m.split(".")[0] == "tests"}, path


def test_no_sys_path_hack_is_left():
    """pyproject.toml declares the project and the benches run as modules: nothing edits sys.path."""
    sources = [*APP, *ENGINE, *sorted((ROOT / "bench").glob("*.py")), *sorted((ROOT / "tests").rglob("*.py"))]
    offenders = [str(p.relative_to(ROOT)) for p in sources if p != Path(__file__) and "sys.path.insert" in p.read_text()]
    assert offenders == []

"""The deployment files agree with requirements.txt, so a pin bump can't silently leave
Community Cloud or the Docker image on other versions (neither can be built here)."""
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPU_BUILDS = {"torch", "torchvision"}  # must come from PyTorch's CPU index when deployed


def requirements() -> dict[str, str]:
    """{package: specifier} from requirements.txt."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", line).groups()
            pins[name.lower()] = spec.replace(" ", "")
    return pins


def test_requirements_use_only_pypi_so_local_installs_need_no_other_index():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        assert not line.strip().startswith(("-i", "--index-url", "--extra-index-url", "-f", "--find-links")), line
        assert "://" not in line.split("#")[0], line


def test_pipfile_pins_what_requirements_pin_with_cpu_torch_from_pytorchs_index():
    pipfile = tomllib.loads((ROOT / "Pipfile").read_text())
    sources = {s["name"]: s["url"] for s in pipfile["source"]}
    assert sources == {"pypi": "https://pypi.org/simple", "pytorch-cpu": "https://download.pytorch.org/whl/cpu"}
    packages = {name.lower(): spec for name, spec in pipfile["packages"].items()}
    pins = requirements()
    assert packages.keys() == pins.keys()
    for name, spec in pins.items():
        if name in CPU_BUILDS:
            assert packages[name] == {"version": f"{spec}+cpu", "index": "pytorch-cpu"}, name
        else:
            assert packages[name] == spec, name


def test_dockerfile_installs_cpu_torch_at_the_pinned_versions():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--index-url https://download.pytorch.org/whl/cpu" in dockerfile
    command = re.search(r"\$\((sed .*? requirements\.txt)\)", dockerfile).group(1)
    out = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    pins = requirements()
    assert sorted(out.split()) == sorted(f"{name}{pins[name]}+cpu" for name in CPU_BUILDS)
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile


def test_dockerfile_has_a_health_check_and_serves_the_app():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^HEALTHCHECK .*\n.*http://localhost:8501/_stcore/health", dockerfile, re.M)
    assert "EXPOSE 8501" in dockerfile
    assert re.search(r'^CMD \["streamlit", "run", "app.py", "--server.headless=true"', dockerfile, re.M)
    assert "dataset-fashion-mnist" in dockerfile


def test_streamlit_does_not_collect_all_garbage_after_every_script_run():
    # With torch, plotly and pandas loaded, each of those full collections cost 0.14 s of a
    # click's server time (bench/many_users.py --driver websocket).
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_compose_example_builds_this_dockerfile_and_keeps_each_browser_on_one_replica():
    import yaml

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    app, proxy = compose["services"]["app"], compose["services"]["proxy"]
    build = app["build"]
    assert (ROOT / "deploy" / build["context"]).resolve() == ROOT and (ROOT / build["dockerfile"]).is_file()
    assert app["environment"]["SOFTMAX_STUDIO_HOSTED"] == "1"
    assert "ports" not in app  # only through the proxy, which keeps a browser on its replica
    labels = app["labels"]
    port = re.search(r"^EXPOSE (\d+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert labels["traefik.http.services.studio.loadbalancer.server.port"] == port
    assert labels["traefik.http.services.studio.loadbalancer.sticky.cookie"] == "true"
    assert labels["traefik.enable"] == "true" and "--providers.docker.exposedbydefault=false" in proxy["command"]
    assert app["deploy"]["replicas"] >= 2 and proxy["ports"] == ["8080:80"]

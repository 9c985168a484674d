"""The package runs outside the repository: build the wheel, install it in a fresh venv in a
temporary folder, and run the commands a user would, with the repository on no path.

The venv gets its dependencies from the test interpreter's site-packages through a .pth line (the
wheel itself is installed with --no-deps): tests never reach a package index, and a full install
takes ~30 s. A plain path line in a .pth does not process the .pth files of that folder, so the
editable install of the repository there stays inactive. GEOSERVICE_WHEEL_FULL_INSTALL=1 installs
the wheel with its dependencies from the configured index instead, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import orjson
import pytest

import geoservice
from geoservice.settings import PACKAGE_ROOT
from tests.servers import free_port, serve_command

FULL_INSTALL = os.environ.get("GEOSERVICE_WHEEL_FULL_INSTALL") == "1"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel, install it in a new venv; return the venv's bin folder, a clean
    environment and a working folder far from the repository."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(PACKAGE_ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("geoservice-*.whl")
    assert wheel.name.startswith(f"geoservice-{geoservice.__version__}-")
    venv = root / "venv"
    if FULL_INSTALL:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)]
    else:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = Path(
            subprocess.check_output(
                [
                    str(venv / "bin" / "python"),
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                ],
                text=True,
            ).strip()
        )
        (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        install = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ]
    done = subprocess.run(install, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEOSERVICE_", "PYTHON"))}
    env["GEOSERVICE_CACHE_DIR"] = str(root / "cache")
    work = root / "elsewhere"
    work.mkdir()
    return {"bin": venv / "bin", "env": env, "cwd": work, "wheel": wheel}


def run(installed: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a command of the installed venv in the working folder."""
    command = [str(installed["bin"] / args[0]), *args[1:]]
    return subprocess.run(
        command,
        cwd=installed["cwd"],
        env=installed["env"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_wheel_carries_the_data_as_package_data(installed) -> None:
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    committed = subprocess.check_output(
        ["git", "ls-files", "data"], cwd=PACKAGE_ROOT, text=True
    ).split()
    assert (
        committed and {f"geoservice/{name}" for name in committed} <= names
    )  # data/sources/ too, once there
    assert (
        "geoservice/maps/static/atlas.js" in names and "geoservice/api/templates/base.html" in names
    )


def test_the_installed_package_is_not_the_repository(installed) -> None:
    done = run(
        installed,
        "python",
        "-c",
        "import geoservice, sys; print(geoservice.__file__); "
        "import os; print(*[p for p in sys.path if os.path.isfile(p + '/geoservice/__init__.py')], sep='\\n')",
    )
    assert done.returncode == 0, done.stderr
    module, *with_package = done.stdout.splitlines()
    venv = str(installed["bin"].parent)
    assert module.startswith(venv)
    # no checkout on the path (an editable install of the checkout leaves only a data/ copy, no package)
    assert len(with_package) == 1 and with_package[0].startswith(venv)


def test_version_is_one_string(installed) -> None:
    done = run(installed, "geoservice", "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"geoservice {geoservice.__version__}"


def test_validate_and_python_api_use_the_packaged_data(installed) -> None:
    done = run(installed, "geoservice", "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 problem(s)" in done.stderr and "yantai-biomed-1p3x" in done.stderr
    done = run(
        installed,
        "python",
        "-c",
        "import geoservice; a = geoservice.open(); "
        "print(a.data_dir); print(len(a['yantai-biomed-1p3x']))",
    )
    data_dir, count = done.stdout.split()
    assert "site-packages/geoservice/data" in data_dir and int(count) > 0


def test_python_dash_m_is_the_command(installed) -> None:
    done = run(installed, "python", "-m", "geoservice", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: geoservice")
    assert "validate" in done.stdout and "maps" in done.stdout


def test_maps_build_writes_pages_and_assets(installed) -> None:
    out = installed["cwd"] / "maps"
    done = run(installed, "geoservice", "maps", "build", "--out", str(out), "--basemap", "offline")
    assert done.returncode == 0, done.stderr
    assert (out / "overview.html").stat().st_size > 100_000 and (
        out / "assets" / "leaflet.js"
    ).exists()
    assert (out / "yantai-biomed-1p3x.html").exists() and (out / "index.html").exists()


def test_serve_answers_collections(installed) -> None:
    port = free_port()
    command = [str(installed["bin"] / "geoservice"), "serve", "--port", str(port)]
    with serve_command(command, f"http://127.0.0.1:{port}/health", installed["cwd"] / "serve.log",
                       cwd=installed["cwd"], env=installed["env"]):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/collections", timeout=10) as response:
            body = orjson.loads(response.read())
        ids = {c["id"] for c in body["collections"]}
        assert {"boundaries", "yantai-biomed-1p3x", "incentives"} <= ids
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=10) as response:
            assert orjson.loads(response.read())["info"]["version"] == geoservice.__version__


def test_export_writes_a_styled_geopackage(installed) -> None:
    path = installed["cwd"] / "plans.gpkg"
    done = run(installed, "geoservice", "export", "--format", "gpkg", "--out", str(path))
    assert done.returncode == 0, done.stderr
    import sqlite3

    with sqlite3.connect(path) as db:
        styled = db.execute("SELECT count(*) FROM layer_styles WHERE useAsDefault").fetchone()[0]
    db.close()
    assert styled > 5 and "boundaries" in done.stdout

"""Binder builds the course from binder/: check what repo2docker would build, without Docker.

`jupyter-repo2docker --no-build --debug` prints the Dockerfile it would build. We read it to
check that it takes binder/ (not the root files), installs the pinned stack and the course's own
package, and selects the Python version CI tests on. The image also carries chapter 7's PyTorch,
pinned to the CPU build (the `torch` extra's version, `+cpu`, from PyTorch's CPU index).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; under CI a missing prerequisite is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def copy_worktree(dest: Path) -> Path:
    """Copy git-tracked plus untracked-not-ignored files of the repo into dest."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        _skip_or_fail("not a git work tree, cannot tell which files belong to the repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file():  # tracked but deleted in the work tree
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def read_pins(path: Path) -> dict[str, str]:
    """Map normalised distribution name -> requirement line, plus local installs (e.g. `-e .`)
    and pip options (e.g. `--extra-index-url`, keyed by the option, the whole line as value)."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-e", "--editable", ".")):
            pins[line] = line
            continue
        if line.startswith("-"):
            pins[line.split()[0]] = " ".join(line.split())
            continue
        name = re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]
        pins[re.sub(r"[-_.]+", "-", name).lower()] = line.replace(" ", "")
    return pins


def test_root_requirements_pin_exact_versions_and_install_project() -> None:
    pins = read_pins(ROOT / "requirements.txt")
    assert "-e ." in pins, "requirements.txt must end with `-e .` so the course package installs"
    loose = [line for key, line in pins.items() if not key.startswith("-") and "==" not in line]
    assert not loose, f"requirements.txt must pin exact versions (==), found: {loose}"


def test_binder_requirements_match_root_requirements() -> None:
    root = read_pins(ROOT / "requirements.txt")
    binder = read_pins(ROOT / "binder" / "requirements.txt")
    # Binder may add exactly these: notebook, for its base image; jupyter-server-proxy, which
    # serves TensorBoard (chapter 7) through the notebook server; and chapter 7's PyTorch, the
    # CPU build, with the index that serves it (see the comments there and the test below).
    extra = {k: v for k, v in binder.items() if k not in root}
    assert set(extra) <= {"notebook", "jupyter-server-proxy", "torch", "--extra-index-url"}, extra
    extra.pop("--extra-index-url", None)
    assert all("==" in v for v in extra.values()), extra
    binder = {k: v for k, v in binder.items() if k in root}
    assert binder == root, (
        "binder/requirements.txt and requirements.txt differ:\n"
        f"  only in requirements.txt: {sorted(set(root.values()) - set(binder.values()))}\n"
        f"  only in binder/requirements.txt: {sorted(set(binder.values()) - set(root.values()))}"
    )


def torch_extra_version() -> str:
    """The version the `torch` extra of pyproject.toml pins (`torch==X`)."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["torch"]
    pins = [r.replace(" ", "") for r in extra if re.match(r"torch\s*==", r)]
    assert len(pins) == 1, f"the torch extra should pin torch exactly once: {extra}"
    return pins[0].split("==", 1)[1]


def test_binder_pins_the_cpu_build_of_the_torch_extra() -> None:
    """Chapter 7's exercises need PyTorch: Binder installs the extra's version as the CPU build.

    `==X+cpu` only matches the wheels of PyTorch's CPU index (their local version label); a
    plain `torch==X` would also match PyPI's wheel, which pulls several GB of CUDA libraries.
    """
    version = torch_extra_version()
    binder = read_pins(ROOT / "binder" / "requirements.txt")
    assert binder.get("torch") == f"torch=={version}+cpu", (
        f"binder/requirements.txt should pin torch=={version}+cpu (the torch extra's version, "
        f"CPU build), found {binder.get('torch')!r}")
    assert binder.get("--extra-index-url") == f"--extra-index-url {CPU_INDEX}", binder
    assert "--index-url" not in binder and "-i" not in binder, (
        "--index-url would replace PyPI for every package; the CPU index is an extra one")
    spec = SpecifierSet(binder["torch"][len("torch"):])
    assert spec.contains(f"{version}+cpu")
    for other in (version, f"{version}+cu126", f"{version}+rocm6.4"):
        assert not spec.contains(other), f"the Binder pin would accept {other}"


def test_binder_runtime_is_the_python_ci_tests() -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == f"python-{PY}", f"binder/runtime.txt says {runtime!r}, CI runs Python {PY}"


@pytest.fixture(scope="module")
def repo2docker_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """repo2docker's dry run on a copy of this work tree: the Dockerfile on stdout, a log on
    stderr."""
    if importlib.util.find_spec("repo2docker") is None:
        _skip_or_fail("jupyter-repo2docker is not installed (pip install -e '.[test]')")
    repo = copy_worktree(tmp_path_factory.mktemp("binder") / "repo")
    # Binder builds as uid 1000 (jovyan); without these repo2docker takes the local user.
    cmd = [
        sys.executable, "-m", "repo2docker",
        "--no-build", "--no-run", "--debug",
        "--user-id", "1000", "--user-name", "jovyan",
        str(repo),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"repo2docker failed:\n{done.stdout}\n{done.stderr}"
    assert "FROM " in done.stdout, f"no Dockerfile in repo2docker's output:\n{done.stdout}"
    return done


@pytest.fixture(scope="module")
def dockerfile(repo2docker_run: subprocess.CompletedProcess[str]) -> str:
    """The Dockerfile repo2docker would build."""
    return repo2docker_run.stdout


def test_repo2docker_uses_binder_folder(dockerfile: str) -> None:
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert '-r "requirements.txt"' not in dockerfile, "root requirements.txt used, not binder/"


def test_repo2docker_installs_pins_and_project_from_repo_root(dockerfile: str) -> None:
    # pip resolves `-e .` against its working directory: it must be the repository root,
    # with the whole repository copied in before the install.
    lines = dockerfile.splitlines()
    install = next(i for i, ln in enumerate(lines) if '-r "binder/requirements.txt"' in ln)
    before = lines[:install]
    assert any(ln.strip() == "WORKDIR ${REPO_DIR}" for ln in before)
    assert not any(ln.strip().startswith("WORKDIR") and "REPO_DIR" not in ln for ln in before)
    copy_all = [ln for ln in before if re.match(r"COPY .*\bsrc/ \$\{REPO_DIR\}/$", ln.strip())]
    assert copy_all, "the repository must be copied into ${REPO_DIR} before pip runs"
    binder_pins = read_pins(ROOT / "binder" / "requirements.txt")
    assert "-e ." in binder_pins, "binder/requirements.txt must install the project (`-e .`)"


def test_repo2docker_selects_ci_python(repo2docker_run: subprocess.CompletedProcess[str]) -> None:
    assert f"Building conda environment for python={PY}\n" in repo2docker_run.stderr
    # The conda lock file it copies in names the Python version; repo2docker escapes the
    # source path (`-2e` is ".", `-2d` is "-").
    lock = [
        ln
        for ln in repo2docker_run.stdout.splitlines()
        if ln.startswith("COPY ") and ln.endswith("/environment.lock")
    ]
    assert len(lock) == 1, "no conda environment lock file in the Dockerfile"
    source = re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), lock[0])
    assert f"environment.py-{PY}-linux" in source, f"Binder image is not Python {PY}: {lock[0]}"


def test_repo2docker_installs_cjk_font_and_start_script(dockerfile: str) -> None:
    assert re.search(r"apt-get install .*fonts-noto-cjk", dockerfile), "apt.txt not used"
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def test_binder_installs_tensorboard_and_its_proxy() -> None:
    binder = read_pins(ROOT / "binder" / "requirements.txt")
    assert binder.get("tensorboard", "").startswith("tensorboard=="), binder
    assert binder.get("jupyter-server-proxy", "").startswith("jupyter-server-proxy=="), binder


def test_binder_start_points_tensorboard_at_the_proxy() -> None:
    """binder/start exports TENSORBOARD_PROXY_URL under this user's server prefix, keeping
    tensorboard's %PORT% placeholder, and leaves a value the hub already set alone."""
    if shutil.which("bash") is None:
        _skip_or_fail("bash is needed to run binder/start")
    script = str(ROOT / "binder" / "start")
    env = {"PATH": os.environ.get("PATH", ""), "JUPYTERHUB_SERVICE_PREFIX": "/user/abc-123/"}
    show = ["bash", script, "bash", "-c", 'printf %s "$TENSORBOARD_PROXY_URL"']
    done = subprocess.run(show, env=env, capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "/user/abc-123/proxy/%PORT%/"
    done = subprocess.run(show, env={"PATH": env["PATH"]}, capture_output=True, text=True,
                          timeout=30, check=True)
    assert done.stdout == "/proxy/%PORT%/"
    done = subprocess.run(show, env={**env, "TENSORBOARD_PROXY_URL": "/custom/%PORT%/"},
                          capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "/custom/%PORT%/"


def test_repo2docker_installs_torch_from_the_cpu_pin(
        repo2docker_run: subprocess.CompletedProcess[str]) -> None:
    """The image's only pip step installs binder/requirements.txt, whose copy in the build
    context pins the CPU build; nothing else in the Dockerfile installs torch."""
    lines = repo2docker_run.stdout.splitlines()
    pip = [ln for ln in lines if re.search(r"\bpip install\b", ln)]
    assert pip == ['RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r '
                   '"binder/requirements.txt"'], pip
    assert not any("torch" in ln for ln in lines), "torch installed outside binder/requirements.txt"
    assert any(re.match(r"COPY .*\bsrc/ \$\{REPO_DIR\}/$", ln.strip()) for ln in lines)
    context = Path(repo2docker_run.args[-1])  # the work tree copy repo2docker built from
    pins = read_pins(context / "binder" / "requirements.txt")
    assert pins["torch"] == f"torch=={torch_extra_version()}+cpu", pins
    assert pins["--extra-index-url"] == f"--extra-index-url {CPU_INDEX}", pins


def test_repo2docker_installs_the_tensorboard_proxy(dockerfile: str) -> None:
    # The packages come from binder/requirements.txt, which the Dockerfile installs whole.
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    lines = dockerfile.splitlines()
    entry = [ln for ln in lines if "R2D_ENTRYPOINT" in ln]
    assert entry and 'binder/start"' in entry[0], "binder/start (TENSORBOARD_PROXY_URL) not used"

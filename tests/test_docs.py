"""The documentation stays true to the code and to the study.

* README.md is short, and its headline numbers are the published study's (each is
  recomputed here from the committed JSON);
* every module of the installed packages appears in ``docs/architecture.md``, and
  every module named there exists;
* every ``make`` target that ``make help`` lists and every ``python -m`` subcommand
  is documented in README.md or under ``docs/``;
* nothing cites an issue number or a file outside the repository, and every test
  file that the Makefile, the docs or the code names exists.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text()
DOCS = README + "".join(path.read_text() for path in sorted((REPO / "docs").glob("*.md")))
PACKAGES = ("toolkit", "sim", "hw", "eda", "verify", "costmodel", "report", "accuracy")


def test_readme_is_short():
    assert len(README.splitlines()) <= 200


def _headline_rows():
    sys.path.insert(0, str(REPO))
    from costmodel import published
    document = published.load_sweep(REPO / "reports" / "sweep_liberty.json")
    ratios = {(r["macs"], r["k"]): r for r in published.ratio_table(document["points"])}

    def saving(ratio):
        return f"{100 * (1 - ratio):.1f} %"

    def energy(k, macs):
        report = json.loads((REPO / "reports" / "synth" / f"k{k}_macs{macs}.json").read_text())
        return report["energy"]["energy_pj_per_output"]

    rows = []
    for row in published.compare_to_paper(document["points"]):
        macs = row["macs"]
        e32 = energy(32, macs)
        rows.append(
            f"| {macs} | {row['area_reduction_k4_pct']:.1f} % ({saving(ratios[(macs, 8)]['area_vs_k32'])}) | "
            f"{row['paper_area_reduction_k4_pct']:.1f} % | "
            f"{row['delay_reduction_k4_pct']:.1f} % ({saving(ratios[(macs, 8)]['delay_vs_k32'])}) | "
            f"{saving(energy(4, macs) / e32)} ({saving(energy(8, macs) / e32)}) |")
    return rows


def test_readme_headline_table_is_the_published_study():
    for row in _headline_rows():
        assert row in README, f"README.md should hold the published row {row!r}"


def test_readme_7nm_line_is_the_published_study():
    sys.path.insert(0, str(REPO))
    from costmodel import published
    document = published.load_sweep(REPO / "reports" / "sweep_asap7.json")
    area = " / ".join(f"{row['area_reduction_k4_pct']:.1f}" for row in published.compare_to_paper(document["points"]))

    def energy(k):
        report = json.loads((REPO / "reports" / "synth" / f"k{k}_macs8_asap7.json").read_text())
        return report["energy"]["energy_pj_per_output"]
    line = " ".join(README.split())
    assert f"savings k = 32 -> 4 are {area} % for 4 / 8 / 16 MACS" in line
    assert f"energy per output at 8 MACS {100 * (1 - energy(4) / energy(32)):.1f} %" in line


def test_readme_headline_accuracy_is_the_published_study():
    rows = json.loads((REPO / "reports" / "mnist1d_accuracy.json").read_text())["rows"]
    for row in rows:
        if row["k"] in (8, 6, 4):
            v = row["vs_k32"]
            lo, hi = v["diff_ci95"]
            text = f"{v['diff_points']:+.2f} points (95 % CI {lo:+.2f}..{hi:+.2f}) at k = {row['k']}" if row["k"] == 8 \
                else f"{v['diff_points']:+.2f} ({lo:+.2f}..{hi:+.2f}) at k = {row['k']}"
            assert text.lstrip("+") in README.replace("\n", " "), text


def _modules():
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "testbenches" in path.parts or path.name == "__init__.py":
                continue
            yield package, path


def _package_row(package):
    return next(line for line in ARCHITECTURE.splitlines() if line.startswith(f"| `{package}/` |"))


@pytest.mark.parametrize("package,path", list(_modules()), ids=lambda v: str(v))
def test_every_module_is_in_the_architecture(package, path):
    """Named in its package's row of the table (as ``name.py``, or ``sub/name.py`` for a
    subpackage), or anywhere in the page by its path."""
    relative = path.relative_to(REPO / package).as_posix()
    row = _package_row(package)
    if path.name == "__main__.py":  # a package's command line, named as the user types it
        assert f"python -m {path.relative_to(REPO).parent.as_posix().replace('/', '.')}" in row, path
        return
    assert (f"`{relative}`" in row or f"{path.relative_to(REPO).as_posix()}" in ARCHITECTURE
            or (path.parent == REPO / package / path.parent.name and f"`{relative}`" in ARCHITECTURE)), \
        f"docs/architecture.md does not name {path.relative_to(REPO)} (in the `{package}/` row)"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_the_architecture_names_exists(package):
    row = _package_row(package)
    for name in re.findall(r"`([\w/]+\.py)`", row):
        assert (REPO / package / name).is_file() or (REPO / name).is_file(), \
            f"docs/architecture.md's `{package}/` row names {name}, which does not exist"


def _make_help_targets():
    text = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return sorted(set(re.findall(r"^make ([a-z0-9-]+)", text, re.M)))


@pytest.mark.parametrize("target", _make_help_targets())
def test_every_make_target_is_documented(target):
    assert re.search(rf"make {re.escape(target)}\b", DOCS), f"'make {target}' is not in README.md or docs/"


def _subcommands():
    for package in ("hw", "verify", "costmodel", "report", "accuracy"):
        text = subprocess.run([sys.executable, "-m", package, "--help"], cwd=REPO, capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}).stdout
        block = text.split("COMMAND\n", 1)[1] if "COMMAND\n" in text else ""
        for name in re.findall(r"^    ([a-z0-9-]+)", block, re.M):
            yield package, name


@pytest.mark.parametrize("package,command", list(_subcommands()))
def test_every_command_is_documented(package, command):
    assert re.search(rf"python -m {package} (\S+ )*{re.escape(command)}\b|python -m {package}`? .*`{command}`",
                     DOCS), f"'python -m {package} {command}' is not in README.md or docs/"


def test_no_issue_numbers_or_outside_files_are_cited():
    files = [p for d in (*PACKAGES, "tests", "benchmarks", "docs") for p in (REPO / d).rglob("*")
             if p.suffix in (".py", ".md") and p.is_file()] + [REPO / "README.md", REPO / "Makefile"]
    bad = [str(p.relative_to(REPO)) for p in files if p != Path(__file__)
           and re.search(r"issue ?#?\d|the \w+ issue\b|\.\./shared|DESIGN\.md", p.read_text(errors="replace"),
                         re.I)]
    assert not bad, f"these cite issue numbers or files outside the repository: {bad}"


def test_every_test_file_named_exists():
    """A test file moved without its citations leaves a ``make`` target running nothing
    (pytest's "file or directory not found") or docs pointing nowhere."""
    files = [p for d in (*PACKAGES, "benchmarks", "docs") for p in (REPO / d).rglob("*")
             if p.suffix in (".py", ".md") and p.is_file()] + [REPO / "README.md", REPO / "Makefile"]
    missing = sorted({f"{p.relative_to(REPO)}: {name}" for p in files
                      for name in re.findall(r"tests/[\w/]+\.py", p.read_text(errors="replace"))
                      if not (REPO / name).is_file()})
    assert not missing, f"these name test files that do not exist: {missing}"

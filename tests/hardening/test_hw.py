"""`python -m hw`: unwritable standard output."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


# --- unwritable stdout -------------------------------------------------------------------

def test_verilog_to_dev_full_and_closed_stdout(tmp_path, run, one_line_error):
    one_line_error(run(tmp_path, "hw", "verilog", "--k", "4", "-o", "/dev/full"), 1, "No space left")
    proc = subprocess.run(f"{sys.executable} -m hw verilog --k 4 >&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    one_line_error(proc, 2, "standard output is closed")


def test_make_verilog_with_a_bad_k_says_so_once(one_line_error):
    """Was: 'make verilog K=33' printed its error twice (the name, then the Verilog)."""
    proc = subprocess.run(["make", "-s", "-o", ".venv/.installed-stamp", "verilog", "K=33"], cwd=REPO,
                          capture_output=True, text=True)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert proc.returncode != 0 and errors == ["error: k must be an integer in 2..32, not 33"], proc.stderr


def test_make_passes_a_library_path_with_a_space_whole(tmp_path):
    """LIB= is one path when it names a file as a whole, else one --lib per word."""
    (tmp_path / "my lib.lib").write_text("library (x) { }\n")
    (tmp_path / "b.lib").write_text("library (y) { }\n")

    def dry(lib):
        return subprocess.run(["make", "-n", "--no-print-directory", "-o", ".venv/.installed-stamp", "synth",
                               "K=4", f"LIB={lib}"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert f"--lib '{tmp_path}/my lib.lib'" in dry(f"{tmp_path}/my lib.lib")
    assert f"--lib '{tmp_path}/b.lib' --lib '{tmp_path}/my'" in dry(f"{tmp_path}/b.lib {tmp_path}/my")

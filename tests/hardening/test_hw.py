"""`python -m hw`: unwritable standard output."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


# --- row 10: unwritable stdout -------------------------------------------------------------------

def test_verilog_to_dev_full_and_closed_stdout(tmp_path, run, one_line_error):
    one_line_error(run(tmp_path, "hw", "verilog", "--k", "4", "-o", "/dev/full"), 1, "No space left")
    proc = subprocess.run(f"{sys.executable} -m hw verilog --k 4 >&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    one_line_error(proc, 2, "standard output is closed")

"""`learnwalk app`: a data folder it cannot use, or a bad option, is refused in one sentence before serving."""
from __future__ import annotations

import os
import subprocess

from tests.support.browser import learnwalk_exe


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*learnwalk_exe(), "app", *args], capture_output=True, text=True, timeout=60)


def test_a_data_folder_that_is_a_file_is_refused_in_one_sentence_with_exit_1(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    r = run("--web", "--port", "8599", "--data-dir", str(blocker))
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "data folder" in lines[0] and "Traceback" not in r.stderr
    assert not (blocker / "learnwalk.sqlite").exists()


def test_a_port_out_of_range_is_a_usage_error(tmp_path):
    r = run("--web", "--port", "70000", "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 2 and "--port" in r.stderr
    assert not (tmp_path / "d").exists()


def test_the_data_folder_defaults_to_flet_app_storage_data(tmp_path):
    blocker = tmp_path / "packaged-storage"
    blocker.write_text("x")  # a file where the folder should be: the refusal names the folder it tried
    r = subprocess.run([*learnwalk_exe(), "app", "--web", "--port", "8599"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "FLET_APP_STORAGE_DATA": str(blocker)})
    assert r.returncode == 1 and str(blocker) in r.stderr

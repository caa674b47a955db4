"""``--out`` is replaced only when covgap wrote every file in it; signals and bugs end cleanly.

Each refusal: exit status 2, one message naming the folder, the reason and a fix, no traceback,
and no file anywhere changed (checksums before and after).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _corpus import assert_clean_error, cli, cli_subprocess, copy_study, snapshot

from covgap import outdir
from covgap.config import load_config
from covgap.errors import InputError
from covgap.outdir import OUTPUT_MARKER, STAGING_INFO, check_out_dir, read_manifest, remove_stale_staging, staging_dir


@pytest.fixture
def study(demo_run, tmp_path):
    _, out = demo_run
    return copy_study(out, tmp_path / "study")


@pytest.fixture
def demo_folder(demo_run, tmp_path):
    """A copy of a whole demo output folder (outputs, inputs/, covgap.toml, manifest)."""
    _, out = demo_run
    d = tmp_path / "demo"
    shutil.copytree(out, d)
    return d


def _prev_run(tmp_path: Path, command: str = "run", files: dict[str, bytes] | None = None) -> Path:
    """A folder as covgap leaves it: files plus a manifest (written by the real staging code)."""
    out = tmp_path / f"prev-{command}"
    with staging_dir(out, command=command) as tmp:
        for rel, data in (files or {"summary.json": b"{}", "sub/a.tif": b"tif"}).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
    return out


def _user_folder(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "thesis.docx").write_text("do not delete")
    return d


def _added(tmp_path):
    d = _prev_run(tmp_path)
    (d / "notes.txt").write_text("mine")
    return d


def _changed(tmp_path):
    d = _prev_run(tmp_path)
    (d / "summary.json").write_text('{"edited": true}')
    return d


def _old_marker(tmp_path):
    d = tmp_path / "old"
    d.mkdir()
    (d / OUTPUT_MARKER).write_text("written by covgap; safe to delete\n")
    (d / "summary.json").write_text("{}")
    return d


def _symlink(tmp_path):
    d = _prev_run(tmp_path)
    (d / "link").symlink_to(tmp_path / "study")
    return d


def _file(tmp_path):
    return tmp_path / "study" / "inputs" / "towers.csv"


def _below_file(tmp_path):
    return tmp_path / "study" / "inputs" / "towers.csv" / "out"


def _plan_folder(tmp_path):
    return _prev_run(tmp_path, "plan", {"plan.json": b"{}"})


#: (id, command, make --out from tmp_path, strings the message must hold)
RUN_CASES = [
    ("out-is-study-folder", "run", lambda t: t / "study", ("holds the config being run", "Fix: write the outputs")),
    ("out-is-parent-of-study", "run", lambda t: t, ("holds the config being run",)),
    ("out-is-inputs-folder", "run", lambda t: t / "study" / "inputs", ("holds the input",)),
    ("out-is-a-file", "run", _file, ("is a file", "must be a folder")),
    ("out-below-a-file", "run", _below_file, ("lies below", "which is a file")),
    ("out-user-folder", "run", _user_folder, ("was not written by covgap", "refusing to overwrite")),
    ("out-file-added", "run", _added, ("covgap did not write there: notes.txt",)),
    ("out-file-changed", "run", _changed, ("changed since covgap wrote them: summary.json",)),
    ("out-old-marker", "run", _old_marker, ("older covgap", "delete that folder yourself")),
    ("out-symlink-inside", "run", _symlink, ("covgap did not write there: link",)),
    ("run-into-plan-folder", "run", _plan_folder, ("holds the outputs of `covgap plan`", "its own folder")),
    ("plan-into-run-folder", "plan", lambda t: _prev_run(t, "run"),
     ("holds the outputs of `covgap run`", "`covgap plan` writes to its own folder")),
    ("plan-into-study", "plan", lambda t: t / "study", ("holds the config being run",)),
    ("plan-into-user-folder", "plan", _user_folder, ("was not written by covgap",)),
    ("plan-out-is-file", "plan", _file, ("is a file",)),
]


def _argv(command, study, out):
    if command == "plan":
        return ["plan", study / "covgap.toml", "--out", out, "--budget", "2", "-q", "--model", "radius"]
    return ["run", study / "covgap.toml", "--out", out, "-q", "--model", "radius"]


@pytest.mark.parametrize("command,make,must", [pytest.param(c, mk, m, id=i) for i, c, mk, m in RUN_CASES])
def test_out_refused(study, tmp_path, capsys, command, make, must):
    out = make(tmp_path)
    before = snapshot(tmp_path)
    rc, _, err = cli(_argv(command, study, out), capsys)
    assert_clean_error(rc, err, must=must)
    assert snapshot(tmp_path) == before, "a refused run changed a file"
    assert not list(Path(tmp_path).rglob("*.partial-*"))


@pytest.mark.parametrize("case", ["out-is-study-folder", "plan-into-run-folder", "out-below-a-file"])
def test_out_refused_subprocess(study, tmp_path, case):
    command, make, must = next((c, mk, m) for i, c, mk, m in RUN_CASES if i == case)
    out = make(tmp_path)
    before = snapshot(tmp_path)
    rc, _, err = cli_subprocess(_argv(command, study, out))
    assert_clean_error(rc, err, must=must)
    assert snapshot(tmp_path) == before


def test_rerun_of_a_copied_demo_into_itself_is_refused(demo_folder, tmp_path, capsys):
    """The issue's data loss: ``covgap run out/demo/covgap.toml --out out/demo`` deleted inputs/ and the config."""
    before = snapshot(tmp_path)
    rc, _, err = cli(["run", demo_folder / "covgap.toml", "--out", demo_folder, "-q", "--model", "radius"], capsys)
    assert_clean_error(rc, err, must=("holds the config being run", str(demo_folder / "covgap.toml")))
    assert snapshot(tmp_path) == before


def test_plan_into_a_demo_folder_is_refused(demo_folder, study, tmp_path, capsys):
    before = snapshot(tmp_path)
    rc, _, err = cli(_argv("plan", study, demo_folder), capsys)
    assert_clean_error(rc, err, must=("holds the outputs of `covgap demo`", "its own folder"))
    assert snapshot(tmp_path) == before


def test_tile_dir_inside_out_is_refused(study, tmp_path, capsys):
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    rc, _, err = cli(["run", study / "covgap.toml", "--out", out, "--tile-dir", out / "tiles", "-q",
                      "--model", "radius"], capsys)
    assert_clean_error(rc, err, must=("tile folder (--tile-dir)",))
    assert snapshot(tmp_path) == before


def test_demo_manifest_lists_every_file_and_a_rerun_replaces_only_that(demo_folder):
    m = read_manifest(demo_folder)
    assert m["command"] == "demo"
    on_disk = {p.relative_to(demo_folder).as_posix() for p in demo_folder.rglob("*") if p.is_file()}
    assert set(m["files"]) == on_disk - {OUTPUT_MARKER}
    assert {"covgap.toml", "inputs/towers.csv", "summary.json", "gap_report.xlsx"} <= set(m["files"])
    assert check_out_dir(demo_folder, command="demo") == demo_folder.resolve()  # a demo may replace a demo


def test_rerun_replaces_own_output_and_keeps_outside_files(study, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(_argv("run", study, out), capsys)[0] == 0
    first = read_manifest(out)["files"]
    before = snapshot(tmp_path, skip=(out,))
    assert cli(_argv("run", study, out), capsys)[0] == 0
    assert snapshot(tmp_path, skip=(out,)) == before
    assert set(read_manifest(out)["files"]) == set(first)
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _staging(parent: Path, name: str, info: dict | None) -> Path:
    d = parent / name
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "summary.json").write_text("{}")
    if info is not None:
        (d / STAGING_INFO).write_text(json.dumps(info))
    return d


def test_stale_staging_folders_of_dead_runs_are_removed(tmp_path):
    host = os.uname().nodename
    dead = _staging(tmp_path, ".out.partial-dead", {"pid": _dead_pid(), "host": host})
    old = _staging(tmp_path, ".out.old-1", {"pid": _dead_pid(), "host": host})
    alive = _staging(tmp_path, ".out.partial-alive", {"pid": os.getpid(), "host": host,
                                                      "start": outdir._proc_start(os.getpid())})
    other_host = _staging(tmp_path, ".out.partial-remote", {"pid": _dead_pid(), "host": host + "-elsewhere"})
    foreign = _staging(tmp_path, ".out.partial-user", None)  # no record: not covgap's to delete
    removed = remove_stale_staging(tmp_path)
    assert sorted(removed) == sorted([dead, old])
    assert not dead.exists() and not old.exists()
    assert alive.exists() and other_host.exists() and foreign.exists()


def test_a_run_removes_stale_staging_folders(study, tmp_path, capsys):
    dead = _staging(tmp_path, ".out.partial-x1", {"pid": _dead_pid(), "host": os.uname().nodename})
    assert cli(_argv("run", study, tmp_path / "out"), capsys)[0] == 0
    assert not dead.exists() and (tmp_path / "out" / "summary.json").exists()


def test_reused_pid_counts_as_dead(tmp_path):
    d = _staging(tmp_path, ".o.partial-r", {"pid": os.getpid(), "host": os.uname().nodename, "start": "-1"})
    assert remove_stale_staging(tmp_path) == [d]


def test_user_file_added_during_the_run_is_kept(study, tmp_path):
    out = _prev_run(tmp_path)
    with pytest.raises(InputError, match="covgap did not write there: late.txt"):
        with staging_dir(out, command="run") as tmp:
            (tmp / "summary.json").write_text("{}")
            (out / "late.txt").write_text("written while covgap ran")
    assert (out / "late.txt").read_text() == "written while covgap ran"
    assert not list(tmp_path.glob(".*partial-*"))


# --- signals and the top-level handler -----------------------------------------------------------

# `covgap run` whose staging folder, once made, waits up to 60 s before the work goes on: the signal
# then always lands in the run's work, never after it (on a loaded machine the tiny run could finish
# between the test seeing the staging folder and sending the signal).
_PAUSED_RUN = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even where CI starts us with SIGINT ignored
import covgap.outdir as o
real = o._stamp
def stamp_and_wait(folder):
    real(folder)
    if ".partial-" in folder.name:
        time.sleep(60)
o._stamp = stamp_and_wait
from covgap.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _start(study, out, tmp_path):
    return subprocess.Popen([sys.executable, "-c", _PAUSED_RUN, *map(str, _argv("run", study, out))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COVGAP_LOG_DIR": str(tmp_path / "logs")})


def _wait_for_staging(proc, parent: Path, name: str) -> bool:
    """Wait until the run has stamped its staging folder (True) or ended (False)."""
    while proc.poll() is None:
        if list(parent.glob(f".{name}.partial-*/{outdir.STAGING_INFO}")):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig,code,text", [(signal.SIGTERM, 143, "terminated (SIGTERM), nothing written"),
                                           (signal.SIGINT, 130, "interrupted, nothing written")],
                         ids=["SIGTERM", "SIGINT"])
def test_signal_leaves_nothing_behind(study, tmp_path, sig, code, text):
    out = tmp_path / "out"
    before = snapshot(tmp_path)
    proc = _start(study, out, tmp_path)
    started = _wait_for_staging(proc, tmp_path, "out")
    if not started:  # pragma: no cover - the run ended before it could be signalled
        proc.communicate()
        pytest.fail("the run ended before the signal could be sent")
    proc.send_signal(sig)
    _, err = proc.communicate()
    assert proc.returncode == code, err
    assert text in err and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "staging folder left behind"
    assert snapshot(tmp_path) == before


def test_unexpected_exception_is_one_line_with_a_log(monkeypatch, tmp_path, capsys, study):
    import covgap.pipeline

    def boom(*a, **k):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(covgap.pipeline, "run", boom)
    monkeypatch.setenv("COVGAP_LOG_DIR", str(tmp_path / "logs"))
    rc, _, err = cli(_argv("run", study, tmp_path / "out"), capsys)
    assert rc == 70 and err.count("\n") == 1 and "Traceback" not in err
    assert "this is a bug in covgap" in err and "RuntimeError: kaboom second line" in err
    log = Path(err.rsplit("traceback in ", 1)[1].strip())
    assert log.parent == tmp_path / "logs"
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "kaboom" in text and "covgap run" in text


def test_ctrl_c_in_process(monkeypatch, tmp_path, capsys, study):
    import covgap.pipeline

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(covgap.pipeline, "run", interrupted)
    rc, _, err = cli(_argv("run", study, tmp_path / "out"), capsys)
    assert rc == 130 and err == "covgap: interrupted, nothing written\n"


def test_permission_denied_is_a_message_not_a_bug(monkeypatch, tmp_path, capsys, study):
    import errno

    import covgap.pipeline

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "out"))

    monkeypatch.setattr(covgap.pipeline, "run", denied)
    rc, _, err = cli(_argv("run", study, tmp_path / "out"), capsys)
    assert_clean_error(rc, err, must=("Permission denied", str(tmp_path / "out")))


def test_fetch_and_plan_share_the_handler(tmp_path, capsys):
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe[")
    for argv in (["fetch", tmp_path / "c.toml"], ["plan", tmp_path / "c.toml", "--out", tmp_path / "p", "--budget", "1"]):
        rc, _, err = cli(argv, capsys)
        assert_clean_error(rc, err, must=("not UTF-8",))


def test_library_config_api_unchanged_for_a_valid_config(study):
    cfg = load_config(study / "covgap.toml")
    assert cfg.path == (study / "covgap.toml").resolve()
    assert cfg.model.kind == "radius" and cfg.model.radius_km == {"2G": 12.0, "3G": 4.0, "4G": 4.0}
    assert cfg.gaps.connectivity == 8 and cfg.gaps.border_belt_km == 20.0 and cfg.report.lang == "en"


def test_signal_during_the_swap_keeps_the_finished_outputs(monkeypatch, tmp_path):
    """A Ctrl-C that lands while the finished outputs are being renamed into place (signals held) must not
    end the run as "interrupted, nothing written": the outputs are complete, kept, and a warning says so.
    A signal during the work before the swap still stops the run with nothing left behind."""
    import contextlib
    import warnings

    from covgap import outdir
    from covgap.errors import CovgapWarning

    real = outdir._signals_deferred

    @contextlib.contextmanager
    def signalled_during_swap():
        with real() as caught:
            os.kill(os.getpid(), signal.SIGINT)  # recorded, not raised, while the swap runs
            yield caught

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal (CI may ignore SIGINT)
    try:
        monkeypatch.setattr(outdir, "_signals_deferred", signalled_during_swap)
        out = tmp_path / "out"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with outdir.staging_dir(out) as tmp:
                (tmp / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        assert (out / "table.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
        assert any(issubclass(w.category, CovgapWarning) and "SIGINT" in str(w.message) for w in caught)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
        monkeypatch.setattr(outdir, "_signals_deferred", real)
        with pytest.raises(KeyboardInterrupt):
            with outdir.staging_dir(tmp_path / "out2") as tmp:
                (tmp / "x.txt").write_text("x", encoding="utf-8")
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1.0)  # the handler raises at the next bytecode; never reached
        assert not (tmp_path / "out2").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    finally:
        signal.signal(signal.SIGINT, previous)

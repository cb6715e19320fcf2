"""R67.7: files are followed across rotation (rename, truncation) and resumed from the saved
position; a line becomes a signal exactly once."""

import os
from pathlib import Path

from aips_agent.tailer import Position, Tailer


def drain(tailer: Tailer, rounds: int = 5) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(rounds):
        out += tailer.read()
    return out


def test_r67_7_start_at_end_or_beginning(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    log.write_bytes(b"old1\nold2\n")
    assert drain(Tailer(log, None, start_at="end")) == []
    assert drain(Tailer(log, None, start_at="beginning")) == [b"old1", b"old2"]


def test_r67_7_partial_lines_wait_for_their_newline(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    log.write_bytes(b"a\nhalf")
    tailer = Tailer(log, None, start_at="beginning")
    assert drain(tailer) == [b"a"]
    assert tailer.position().offset == 2
    with log.open("ab") as f:
        f.write(b"-done\r\nb\n")
    assert drain(tailer) == [b"half-done", b"b"]
    assert tailer.position().offset == log.stat().st_size


def test_r67_7_resume_from_a_saved_position(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    log.write_bytes(b"1\n2\n3\n")
    first = Tailer(log, None, start_at="beginning")
    assert first.read() == [b"1", b"2", b"3"]
    saved = first.position().dump()
    first.close()
    with log.open("ab") as f:
        f.write(b"4\n")
    again = Tailer(log, Position.load(saved), start_at="beginning")
    assert drain(again) == [b"4"]


def test_r67_7_rotation_by_rename_finishes_the_old_file_first(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    log.write_bytes(b"1\n")
    tailer = Tailer(log, None, start_at="beginning")
    assert drain(tailer) == [b"1"]
    with log.open("ab") as f:
        f.write(b"2\n3-no-newline")  # written just before rotation
    os.rename(log, tmp_path / "eve.json.1")
    log.write_bytes(b"4\n")
    assert drain(tailer) == [b"2", b"3-no-newline", b"4"]
    assert tailer.position().inode == log.stat().st_ino


def test_r67_7_restart_after_rotation_finds_the_old_file_by_inode(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    log.write_bytes(b"1\n2\n")
    tailer = Tailer(log, None, start_at="beginning")
    tailer.read(2)  # "1\n" only
    saved = tailer.position()
    tailer.close()
    assert saved.offset == 2
    os.rename(log, tmp_path / "eve.json.1")
    log.write_bytes(b"3\n")
    resumed = Tailer(log, saved, start_at="end")
    assert drain(resumed) == [b"2", b"3"]


def test_r67_7_truncation_in_place_reads_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "eve.json"
    log.write_bytes(b"1\n2\n")
    tailer = Tailer(log, None, start_at="beginning")
    assert drain(tailer) == [b"1", b"2"]
    log.write_bytes(b"x\n")  # copytruncate, then a new line
    assert drain(tailer) == [b"x"]


def test_r67_7_a_file_that_does_not_exist_yet_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "later.json"
    tailer = Tailer(log, None, start_at="end")
    assert drain(tailer) == []
    log.write_bytes(b"first\n")
    # A file that appears after the agent started is read from its start, whatever start_at.
    assert drain(tailer) == [b"first"]

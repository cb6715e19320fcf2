"""Follow a log file across rotation, by inode, resuming from a saved position.

The position is (inode, offset of the first byte not yet turned into signals). Rotation by
rename (logrotate's default) is seen as a new inode at the path: the old file is read to its end
first (found again by inode among its siblings after a restart), then the new one from byte 0.
Truncation in place (copytruncate) is seen as a file shorter than the offset: read from 0.
A last line without its newline is held back until the newline comes, or until the file is
rotated away (then it is complete)."""

import glob
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("aips_agent.tailer")
CHUNK = 1 << 20
MAX_LINE = 1 << 20  # a longer "line" is cut into pieces (and then fails to parse, counted)


@dataclass
class Position:
    inode: int
    offset: int
    path: str

    def dump(self) -> str:
        return json.dumps({"inode": self.inode, "offset": self.offset, "path": self.path})

    @classmethod
    def load(cls, text: str | None) -> "Position | None":
        if not text:
            return None
        data = json.loads(text)
        return cls(int(data["inode"]), int(data["offset"]), str(data.get("path", "")))


class Tailer:
    def __init__(self, path: Path, position: Position | None, *, start_at: str = "end") -> None:
        self.path = path
        self.start_at = start_at
        self.file: BinaryIO | None = None
        self.inode = 0
        self.offset = 0  # of the first unconsumed byte
        self.draining = False  # reading a rotated-away file to its end
        self.lost_rotations = 0
        self._buffer = b""
        self._resume = position
        self.reading = str(path)  # the file being read (a rotated one while draining)
        # Where the lines the last read() answered came from: the file, and each line's offset.
        self.lines_from = str(path)
        self.offsets: list[int] = []

    # --- opening ----------------------------------------------------------------------------

    def _open(self, path: str, offset: int, *, draining: bool) -> None:
        handle = open(path, "rb")  # noqa: SIM115 - kept open while following
        inode = os.fstat(handle.fileno()).st_ino
        size = os.fstat(handle.fileno()).st_size
        if offset > size:
            log.warning(
                "file is shorter than the saved position: read from its start", extra={"path": path}
            )
            offset = 0
        handle.seek(offset)
        self.close()
        self.file, self.inode, self.offset, self.draining = handle, inode, offset, draining
        self.reading = path
        self._buffer = b""

    def _find_by_inode(self, inode: int) -> str | None:
        for candidate in sorted(glob.glob(glob.escape(str(self.path)) + "*")):
            try:
                if os.stat(candidate).st_ino == inode and not candidate.endswith(".gz"):
                    return candidate
            except OSError:
                continue
        return None

    def _first_open(self) -> bool:
        resume, self._resume = self._resume, None
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        if resume is not None:
            if current is not None and current.st_ino == resume.inode:
                self._open(str(self.path), resume.offset, draining=False)
                return True
            rotated = self._find_by_inode(resume.inode)
            if rotated is not None:
                log.info("resuming in the rotated file", extra={"path": rotated})
                self._open(rotated, resume.offset, draining=True)
                return True
            if current is not None:
                self.lost_rotations += 1
                log.warning(
                    "the file read last is gone (rotated and removed?): reading the new one "
                    "from its start; events at the end of the old one may be missing",
                    extra={"path": str(self.path)},
                )
                self._open(str(self.path), 0, draining=False)
                return True
            self._resume = resume  # nothing there yet; try again later
            return False
        if current is None:
            self.start_at = "beginning"  # a file that appears later is read whole
            return False
        self._open(str(self.path), 0, draining=False)
        if self.start_at == "end" and self.file is not None:
            self.offset = self.file.seek(0, os.SEEK_END)
        return True

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def position(self) -> Position:
        return Position(self.inode, self.offset, str(self.path))

    # --- reading ----------------------------------------------------------------------------

    def read(self, max_bytes: int = CHUNK) -> list[bytes]:
        """Complete lines available now (maybe none). After consuming them the caller saves
        position(); it already accounts for exactly these lines. `offsets` then holds where
        each of them starts in `reading`."""
        self.offsets = []
        if self.file is None and not self._first_open():
            return []
        if self.file is None:
            return []
        data = self.file.read(max_bytes)
        if not data:
            return self._at_end()
        data = self._buffer + data
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) > MAX_LINE:
                self._buffer = b""
                self.lines_from, self.offsets = self.reading, [self.offset]
                self.offset += len(data)
                return [data]
            self._buffer = data
            return []
        self._buffer = data[end + 1 :]
        start = self.offset
        self.offset += end + 1  # offset is where the held-back buffer starts
        return self._lines(data[:end], start)

    def _lines(self, data: bytes, start: int) -> list[bytes]:
        """The non-empty lines of `data` (which starts at byte `start`), noting their offsets."""
        lines: list[bytes] = []
        offsets = self.offsets = []
        self.lines_from = self.reading
        at = start
        for line in data.split(b"\n"):
            if line.strip():
                lines.append(line.rstrip(b"\r"))
                offsets.append(at)
            at += len(line) + 1
        return lines

    def _at_end(self) -> list[bytes]:
        """At EOF: follow a rotation or a truncation, if there was one."""
        if self.file is None:
            return []
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        rotated = current is not None and current.st_ino != self.inode
        if self.draining or rotated:
            # The old file is finished (a writer may still have appended: read once more).
            tail = self._buffer + self.file.read()
            start = self.offset
            self.offset += len(tail)
            self._buffer = b""
            lines = self._lines(tail, start)
            if current is None:
                if not lines:
                    return []  # the path is gone and nothing new; keep waiting on the old file
                return lines
            log.info("file rotated: continuing with the new one", extra={"path": str(self.path)})
            self._open(str(self.path), 0, draining=False)
            return lines
        if current is not None and current.st_size < self.offset + len(self._buffer):
            log.warning("file truncated: reading it from its start", extra={"path": str(self.path)})
            self._open(str(self.path), 0, draining=False)
        return []

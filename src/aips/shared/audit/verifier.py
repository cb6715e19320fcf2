"""Stand-alone verifier of the AIPS audit journal (R57.17).

Needs only Python 3.11 and `cryptography`: copy this one file next to an export made by
`aips audit export DIR` (or an archive directory) and run `python verifier.py DIR`. The server's
`aips audit verify` uses the same functions, so both always agree.

The journal is a hash chain and an RFC 9162 Merkle tree over the same leaves:
  leaf_i  = SHA-256(0x00 || canonical_json(entry_i))
  chain_i = SHA-256(chain_{i-1} || leaf_i), chain_0 = 32 zero bytes
  root(n) = RFC 9162 Merkle tree hash of leaf_1..leaf_n (node = SHA-256(0x01 || left || right))
Checkpoints sign "aips-audit-checkpoint/v1\\n{size}\\n{root hex}\\n{created_at}\\n" (Ed25519).
Archive manifests sign their own canonical JSON (without the signature) and chain to the previous
manifest's SHA-256.

The anchor file (one canonical JSON line per anchored checkpoint, format aips-audit-anchor/v1)
carries each signed checkpoint with the RFC 9162 (2.1.4) consistency proof from the checkpoint on
the line before and that line's SHA-256. `python verifier.py DIR --anchor FILE` checks the file
and the journal against every anchored root: rolled back, rewritten, checkpoints deleted.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ZERO = bytes(32)
CHECKPOINT_TAG = "aips-audit-checkpoint/v1"


def canonical_json(obj: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (RFC 8785-like for our types)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_hash(payload: dict[str, Any]) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_json(payload)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def chain_next(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def checkpoint_message(tree_size: int, root: bytes, created_at: str) -> bytes:
    return f"{CHECKPOINT_TAG}\n{tree_size}\n{root.hex()}\n{created_at}\n".encode()


class MerkleBuilder:
    """Appends leaves and gives the RFC 9162 root of everything so far, in O(log n) memory."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # perfect subtrees (size, hash), left to right
        self.size = 0

    def append(self, leaf: bytes) -> None:
        size, node = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            node = node_hash(left, node)
            size += left_size
        self._stack.append((size, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        node = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    builder = MerkleBuilder()
    for leaf in leaves:
        builder.append(leaf)
    return builder.root()


# --- RFC 9162 consistency proofs (section 2.1.4) ----------------------------------------------


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size >= 2): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) whose tree hashes make up PROOF(m, D[n]) (RFC 9162
    2.1.4.1), in proof order. Empty unless 0 < m < n. The ranges never overlap, so one pass over
    the leaves computes them all (TreeScan)."""

    def subproof(m: int, start: int, end: int, complete: bool) -> list[tuple[int, int]]:
        size = end - start
        if m == size:
            return [] if complete else [(start, end)]
        k = _split(size)
        if m <= k:
            return [*subproof(m, start, start + k, complete), (start + k, end)]
        return [*subproof(m - k, start + k, end, False), (start, start + k)]

    if not 0 < m < n:
        return []
    return subproof(m, 0, n, True)


def verify_consistency(m: int, n: int, first: bytes, second: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does the tree of size n with root `second` extend the tree of size m with
    root `first`? Every tree extends the empty one; a tree extends itself only with an empty
    proof and the same root."""
    if m < 0 or n < m:
        return False
    if m == 0:
        return not proof
    if m == n:
        return not proof and first == second
    if not proof:
        return False
    path = [first, *proof] if m & (m - 1) == 0 else list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first and sr == second and sn == 0


class TreeScan:
    """One pass over the leaves that gives the root at each size in `sizes` and the tree hash of
    each range in `ranges` (which must not overlap), so a checkpoint, the anchored root before it
    and the consistency proof between them cost one read of the journal."""

    def __init__(self, sizes: Iterable[int] = (), ranges: Iterable[tuple[int, int]] = ()) -> None:
        self.tree = MerkleBuilder()
        self.roots: dict[int, bytes] = {}
        self.hashes: dict[tuple[int, int], bytes] = {}
        self._sizes = set(sizes)
        self._ranges = sorted(ranges)
        self._next = 0
        self._part = MerkleBuilder()

    @property
    def size(self) -> int:
        return self.tree.size

    def append(self, leaf: bytes) -> None:
        index = self.tree.size
        self.tree.append(leaf)
        if self._next < len(self._ranges):
            start, end = self._ranges[self._next]
            if start <= index:
                self._part.append(leaf)
                if index + 1 == end:
                    self.hashes[(start, end)] = self._part.root()
                    self._part = MerkleBuilder()
                    self._next += 1
        if self.tree.size in self._sizes:
            self.roots[self.tree.size] = self.tree.root()

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[n]); KeyError if the scan has not seen n leaves."""
        return [self.hashes[r] for r in consistency_ranges(m, n)]


@dataclass
class Entry:
    seq: int
    leaf_hash: str
    chain_hash: str
    payload: dict[str, Any] | None


@dataclass
class Checkpoint:
    tree_size: int
    root_hash: str
    created_at: str
    signature: str  # base64
    public_key: str  # base64 of the raw 32-byte Ed25519 key


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    entries: int = 0
    checkpoints: int = 0
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, seq: int | None, message: str) -> None:
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq
        self.problems.append(message)


def verify_signature(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(
    entries: Iterable[Entry],
    checkpoints: list[Checkpoint],
    *,
    trusted_keys: set[str] | None = None,
    head_seq: int | None = None,
    stop_at_first: bool = True,
) -> Report:
    """Recompute leaves, the chain and the Merkle roots; check checkpoint signatures.

    `trusted_keys`: base64 Ed25519 public keys accepted for checkpoints (None = the keys the
    checkpoints carry, which only proves internal consistency)."""
    report = Report()
    by_size: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        by_size.setdefault(cp.tree_size, []).append(cp)
    builder = MerkleBuilder()
    previous = ZERO
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                report.fail(expected_seq, f"entry {expected_seq} is missing (deleted)")
            else:
                report.fail(entry.seq, f"entry {entry.seq} is out of order or duplicated")
            if stop_at_first:
                return report
            expected_seq = entry.seq
        leaf = bytes.fromhex(entry.leaf_hash)
        if entry.payload is not None and leaf_hash(entry.payload) != leaf:
            report.fail(entry.seq, f"entry {entry.seq} was changed (content does not match)")
            if stop_at_first:
                return report
        chain = chain_next(previous, leaf)
        if chain.hex() != entry.chain_hash:
            report.fail(
                entry.seq, f"entry {entry.seq} breaks the chain (inserted, reordered or changed)"
            )
            if stop_at_first:
                return report
        previous = bytes.fromhex(entry.chain_hash)
        builder.append(leaf)
        report.entries += 1
        for cp in by_size.pop(builder.size, []):
            _check_checkpoint(report, cp, builder.root(), trusted_keys)
            if stop_at_first and not report.ok:
                return report
        expected_seq = entry.seq + 1
    last = expected_seq - 1
    for size in sorted(by_size):
        report.fail(
            last + 1,
            f"journal truncated: a checkpoint covers {size} entries but only {last} remain; "
            f"entry {last + 1} is the first missing",
        )
        if stop_at_first:
            return report
    if head_seq is not None and head_seq != last:
        report.fail(
            last + 1, f"journal truncated: the head says {head_seq} entries but {last} remain"
        )
    return report


def _check_checkpoint(
    report: Report, cp: Checkpoint, root: bytes, trusted_keys: set[str] | None
) -> None:
    report.checkpoints += 1
    if trusted_keys is not None and cp.public_key not in trusted_keys:
        report.fail(cp.tree_size, f"checkpoint at {cp.tree_size} is signed by an unknown key")
    elif not verify_signature(
        cp.public_key,
        checkpoint_message(cp.tree_size, bytes.fromhex(cp.root_hash), cp.created_at),
        cp.signature,
    ):
        report.fail(cp.tree_size, f"checkpoint at {cp.tree_size} has a bad signature")
    elif cp.root_hash != root.hex():
        report.fail(
            cp.tree_size,
            f"entries up to {cp.tree_size} do not match the signed checkpoint (rewritten history)",
        )


# --- the external anchor ----------------------------------------------------------------------

ANCHOR_FORMAT = "aips-audit-anchor/v1"


@dataclass
class Anchor:
    """One line of the anchor file: a signed checkpoint, the anchored checkpoint before it, the
    RFC 9162 consistency proof between the two, and the SHA-256 of the line before it."""

    line: int
    tree_size: int
    root_hash: str
    created_at: str
    public_key: str
    signature: str
    previous_size: int
    previous_root: str
    consistency: list[str]
    previous_line_sha256: str
    anchored_at: str
    digest: str = ""  # SHA-256 of this line's JSON text, which the next line names


def anchor_text(anchor: Anchor) -> str:
    """The canonical JSON of a line (without the newline)."""
    fields = {
        "format": ANCHOR_FORMAT,
        "tree_size": anchor.tree_size,
        "root_hash": anchor.root_hash,
        "created_at": anchor.created_at,
        "public_key": anchor.public_key,
        "signature": anchor.signature,
        "previous_size": anchor.previous_size,
        "previous_root": anchor.previous_root,
        "consistency": anchor.consistency,
        "previous_line_sha256": anchor.previous_line_sha256,
        "anchored_at": anchor.anchored_at,
    }
    return canonical_json(fields).decode()


def parse_anchor(text: str, line: int) -> Anchor | None:
    """A line as written, or as a witness kept it: anything before the first "{" (a syslog
    header, a mail client's quoting) is ignored. None if it is not a well-formed anchor."""
    start = text.find("{")
    if start < 0:
        return None
    body = text[start:].strip()
    try:
        raw = json.loads(body)
        if not isinstance(raw, dict) or raw.get("format") != ANCHOR_FORMAT:
            return None
        anchor = Anchor(
            line=line,
            tree_size=raw["tree_size"],
            root_hash=raw["root_hash"],
            created_at=raw["created_at"],
            public_key=raw["public_key"],
            signature=raw["signature"],
            previous_size=raw["previous_size"],
            previous_root=raw["previous_root"],
            consistency=raw["consistency"],
            previous_line_sha256=raw["previous_line_sha256"],
            anchored_at=raw["anchored_at"],
        )
        ints_ok = all(type(v) is int and v >= 0 for v in (anchor.tree_size, anchor.previous_size))
        texts = (anchor.created_at, anchor.public_key, anchor.signature, anchor.anchored_at)
        hashes = [anchor.root_hash, *anchor.consistency]
        if anchor.previous_size:
            hashes.append(anchor.previous_root)
        if anchor.previous_line_sha256:
            hashes.append(anchor.previous_line_sha256)
        if not (
            ints_ok
            and all(isinstance(t, str) for t in texts)
            and isinstance(anchor.consistency, list)
            and all(isinstance(h, str) and len(bytes.fromhex(h)) == 32 for h in hashes)
        ):
            return None
    except (KeyError, TypeError, ValueError):
        return None
    anchor.digest = hashlib.sha256(body.encode()).hexdigest()
    return anchor


def read_anchor_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, text


def check_anchors(
    lines: Iterable[tuple[int, str]], report: Report, *, trusted_keys: set[str] | None
) -> list[Anchor]:
    """The anchor file on its own: every line readable and signed by a trusted key, each proven
    (RFC 9162) to extend the checkpoint it names, and each naming the line before it, so a line
    removed, reordered or changed in the middle is seen. Returns the lines whose signature holds;
    the file's last lines can only be vouched for by a copy kept elsewhere (a witness)."""
    good: list[Anchor] = []
    previous: Anchor | None = None
    for number, text in lines:
        anchor = parse_anchor(text, number)
        if anchor is None:
            report.fail(None, f"anchor line {number} is unreadable")
            continue
        where = f"anchor line {number} (checkpoint at {anchor.tree_size})"
        if trusted_keys is not None and anchor.public_key not in trusted_keys:
            report.fail(None, f"{where} is signed by an unknown key")
            continue
        message = checkpoint_message(
            anchor.tree_size, bytes.fromhex(anchor.root_hash), anchor.created_at
        )
        if not verify_signature(anchor.public_key, message, anchor.signature):
            report.fail(None, f"{where} has a bad signature")
            continue
        first = bytes.fromhex(anchor.previous_root) if anchor.previous_size else b""
        proof = [bytes.fromhex(h) for h in anchor.consistency]
        if not verify_consistency(
            anchor.previous_size, anchor.tree_size, first, bytes.fromhex(anchor.root_hash), proof
        ):
            report.fail(
                None,
                f"{where}: the consistency proof from size {anchor.previous_size} fails "
                "(the journal was not extended but rewritten)",
            )
        if previous is not None and (
            anchor.previous_size != previous.tree_size
            or anchor.previous_root != previous.root_hash
            or anchor.previous_line_sha256 != previous.digest
        ):
            report.fail(
                None,
                f"{where} does not follow anchor line {previous.line} "
                "(lines removed, reordered or changed in between)",
            )
        good.append(anchor)
        previous = anchor
    return good


class AnchorWatch:
    """Passes the journal through, noting its Merkle root at every anchored size; `finish` then
    compares them with the anchors and names what was rolled back, rewritten or deleted."""

    def __init__(self, anchors: list[Anchor]) -> None:
        # The same line may come from two copies (the file and a witness's).
        unique = {(a.tree_size, a.root_hash): a for a in anchors}
        self.anchors = sorted(unique.values(), key=lambda a: a.tree_size)
        self.scan = TreeScan(sizes=[a.tree_size for a in self.anchors])

    def watch(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            try:
                leaf = bytes.fromhex(entry.leaf_hash)
            except (TypeError, ValueError):  # garbage in the chain table: a leaf that fits nothing
                leaf = hashlib.sha256(str(entry.leaf_hash).encode()).digest()
            self.scan.append(leaf)
            yield entry

    @property
    def newest(self) -> Anchor | None:
        return self.anchors[-1] if self.anchors else None

    def finish(self, report: Report, checkpoints: list[Checkpoint]) -> None:
        present = self.scan.size
        matched = 0
        for anchor in self.anchors:
            if anchor.tree_size > present:
                break
            if self.scan.roots[anchor.tree_size].hex() == anchor.root_hash:
                matched = anchor.tree_size
                continue
            report.fail(
                anchor.tree_size,
                f"rewritten: entries {matched + 1}..{anchor.tree_size} differ from the checkpoint "
                f"signed at {anchor.created_at} and anchored at {anchor.anchored_at} "
                f"(entries 1..{matched} match the anchor)",
            )
            break
        newest = self.newest
        if newest is not None and newest.tree_size > present:
            report.fail(
                present + 1,
                f"rolled back: entries {present + 1}..{newest.tree_size} are missing (the "
                f"checkpoint at {newest.tree_size} was signed at {newest.created_at} and anchored "
                f"at {newest.anchored_at})",
            )
        held = {(cp.tree_size, cp.root_hash) for cp in checkpoints}
        gone = [a.tree_size for a in self.anchors if (a.tree_size, a.root_hash) not in held]
        if len(gone) == 1:
            report.fail(
                None,
                f"checkpoints deleted: anchored checkpoint at size {gone[0]} is not in the "
                "database",
            )
        elif gone:
            shown = ", ".join(str(size) for size in gone[:10])
            more = f" and {len(gone) - 10} more" if len(gone) > 10 else ""
            report.fail(
                None,
                f"checkpoints deleted: anchored checkpoints at sizes {shown}{more} are not in "
                "the database",
            )


# --- exports and archives on disk -----------------------------------------------------------


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_export(directory: Path) -> tuple[Iterator[Entry], list[Checkpoint], set[str]]:
    entries = (
        Entry(int(r["seq"]), r["leaf_hash"], r["chain_hash"], r.get("payload"))
        for r in read_jsonl(directory / "entries.jsonl")
    )
    checkpoints = [Checkpoint(**r) for r in read_jsonl(directory / "checkpoints.jsonl")]
    keys_file = directory / "trusted_keys.txt"
    keys = (
        {k.strip() for k in keys_file.read_text().split() if k.strip()}
        if keys_file.exists()
        else set()
    )
    return entries, checkpoints, keys


SEGMENT_FORMAT = "aips-audit-segment/v1"
# The legal minimum (R57.17). A segment's data file may be missing (pruned) only once its signed
# manifest is at least this old; whatever the server's settings say, younger data must be there.
MIN_ARCHIVE_YEARS = 5
_MANIFEST_KEYS = {
    "format",
    "first_seq",
    "last_seq",
    "file",
    "file_sha256",
    "previous_manifest_sha256",
    "previous_chain_hash",
    "last_chain_hash",
    "entries",
    "public_key",
    "created_at",
}


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, and the target year has none
        return moment.replace(year=moment.year - years, day=28)


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not manifest.keys() >= _MANIFEST_KEYS:
        return None
    # Well-formed before anything else is read from it: a manifest signed by an unknown key
    # (checked later) must still give a report, not a traceback.
    try:
        types_ok = all(type(manifest[k]) is int for k in ("first_seq", "last_seq", "entries"))
        types_ok = types_ok and all(
            isinstance(manifest.get(k, ""), str)
            for k in ("format", "file", "public_key", "previous_manifest_sha256", "signature")
        )
        hashes_ok = all(
            len(bytes.fromhex(manifest[k])) == 32
            for k in ("file_sha256", "previous_chain_hash", "last_chain_hash")
        )
        parse_utc(manifest["created_at"])
    except (TypeError, ValueError):
        return None
    return manifest if types_ok and hashes_ok else None


def verify_archive(
    directory: Path,
    *,
    trusted_keys: set[str] | None = None,
    now: datetime | None = None,
    check_entries_from: int = 1,
) -> Report:
    """Check every sealed segment: its manifest's signature, the manifest chain from seq 1 with no
    gap, its file hash, and every archived entry's leaf and chain hash.

    A segment's data file may be absent only when its manifest was signed MIN_ARCHIVE_YEARS or
    more before `now` (pruned); the kept manifest carries the chain across it. Segments ending
    before `check_entries_from` are checked by signed manifest and file hash without re-reading
    each entry (the archiver uses this to re-check only what it has just written)."""
    report = Report()
    prunable_before = years_before(now or datetime.now(UTC), MIN_ARCHIVE_YEARS)
    previous_manifest = ""
    previous_chain = ZERO
    previous_last = 0
    for manifest_path in sorted(directory.glob("*.manifest.json")):
        expected = previous_last + 1
        manifest = _read_manifest(manifest_path)
        if manifest is None:
            report.fail(expected, f"{manifest_path.name}: unreadable manifest")
            return report
        signature = manifest.pop("signature", "")
        if trusted_keys is not None and manifest["public_key"] not in trusted_keys:
            report.fail(expected, f"{manifest_path.name}: signed by an unknown key")
            return report
        if not verify_signature(manifest["public_key"], canonical_json(manifest), signature):
            report.fail(expected, f"{manifest_path.name}: bad signature (manifest altered)")
            return report
        first, last = int(manifest["first_seq"]), int(manifest["last_seq"])
        if first > expected:
            report.fail(expected, f"entries {expected}-{first - 1} are missing (segment removed)")
            return report
        if first < expected or last < first or manifest["format"] != SEGMENT_FORMAT:
            report.fail(first, f"{manifest_path.name}: overlaps or is malformed")
            return report
        if manifest["previous_manifest_sha256"] != previous_manifest:
            report.fail(first, f"{manifest_path.name}: manifest chain broken")
            return report
        if bytes.fromhex(manifest["previous_chain_hash"]) != previous_chain:
            report.fail(first, f"{manifest_path.name}: does not follow on")
            return report
        name = str(manifest["file"])
        segment = directory / name
        if Path(name).name != name:
            report.fail(first, f"{manifest_path.name}: bad file name {name!r}")
            return report
        if not segment.exists():
            if parse_utc(manifest["created_at"]) > prunable_before:
                report.fail(first, f"{name}: missing (younger than {MIN_ARCHIVE_YEARS} years)")
                return report
        else:
            altered = _file_sha256(segment) != manifest["file_sha256"]
            if altered or last >= check_entries_from:
                # An altered file is still read: the report then names the first bad entry.
                if not _verify_segment_entries(report, segment, first, last, previous_chain):
                    return report
                if manifest["entries"] != last - first + 1:
                    report.fail(first, f"{manifest_path.name}: wrong entry count")
                    return report
                if altered:
                    report.fail(first, f"{name}: altered (its hash is not the signed one)")
                    return report
        previous_chain = bytes.fromhex(manifest["last_chain_hash"])
        previous_last = last
        previous_manifest = hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    return report


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_segment_entries(
    report: Report, segment: Path, first: int, last: int, chain: bytes
) -> bool:
    expected = first
    try:
        for row in read_jsonl(segment):
            entry = Entry(int(row["seq"]), row["leaf_hash"], row["chain_hash"], row["payload"])
            if entry.seq != expected:
                report.fail(expected, f"{segment.name}: entry {expected} missing or out of order")
                return False
            if entry.payload is None or leaf_hash(entry.payload).hex() != entry.leaf_hash:
                report.fail(entry.seq, f"entry {entry.seq} was changed in {segment.name}")
                return False
            chain = chain_next(chain, bytes.fromhex(entry.leaf_hash))
            if chain.hex() != entry.chain_hash:
                report.fail(entry.seq, f"entry {entry.seq} breaks the chain in {segment.name}")
                return False
            report.entries += 1
            expected += 1
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        report.fail(expected, f"{segment.name}: unreadable at entry {expected} ({exc})")
        return False
    if expected - 1 != last:
        report.fail(expected, f"{segment.name}: ends at {expected - 1}, not {last}")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="an export (entries.jsonl) or an archive")
    parser.add_argument("--trusted-key", action="append", default=[], help="base64 Ed25519 key")
    parser.add_argument(
        "--anchor",
        action="append",
        default=[],
        type=Path,
        help="an anchor file, or a witness's copy of its lines (default: DIR/anchor.jsonl)",
    )
    args = parser.parse_args(argv)
    trusted = set(args.trusted_key) or None
    if trusted is None:
        # Without a key obtained out of band, a re-signed copy would verify too.
        print(
            "warning: no --trusted-key given; signatures are checked against the keys the "
            "directory itself names, which proves consistency, not origin",
            file=sys.stderr,
        )
    if (args.directory / "entries.jsonl").exists():
        entries, checkpoints, keys = load_export(args.directory)
        keys_used = trusted or keys or None
        report = Report()
        anchor_files = args.anchor or [p for p in [args.directory / "anchor.jsonl"] if p.exists()]
        anchors: list[Anchor] = []
        for path in anchor_files:
            try:
                anchors += check_anchors(read_anchor_lines(path), report, trusted_keys=keys_used)
            except OSError as exc:
                report.fail(None, f"anchor file {path} cannot be read ({exc.strerror})")
        watch = AnchorWatch(anchors)
        watched = watch.watch(entries)
        chain = verify(watched, checkpoints, trusted_keys=keys_used)
        for _rest in watched:  # the anchors are checked against the whole journal
            pass
        report.entries, report.checkpoints = chain.entries, chain.checkpoints
        for problem in chain.problems:
            report.fail(chain.first_bad_seq, problem)
        watch.finish(report, checkpoints)
        if watch.newest is not None and report.ok:
            print(f"anchored: the first {watch.newest.tree_size} entries match the anchor")
    else:
        report = verify_archive(args.directory, trusted_keys=trusted)
    if report.ok:
        print(f"OK: {report.entries} entries, {report.checkpoints} checkpoints verified")
        return 0
    if report.first_bad_seq is None:
        print("TAMPERED", file=sys.stderr)
    else:
        print(f"TAMPERED: first bad sequence number {report.first_bad_seq}", file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

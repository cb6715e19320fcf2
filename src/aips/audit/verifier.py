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


def verify_archive(directory: Path, *, trusted_keys: set[str] | None = None) -> Report:
    """Check every sealed segment: its file hash, its manifest signature, the manifest chain and
    every archived entry's leaf and chain hash."""
    report = Report()
    manifests = sorted(directory.glob("*.manifest.json"))
    previous_manifest = ""
    previous_chain: bytes | None = None
    for manifest_path in manifests:
        manifest = json.loads(manifest_path.read_text())
        signature = manifest.pop("signature", "")
        public_key = manifest.get("public_key", "")
        if trusted_keys is not None and public_key not in trusted_keys:
            report.fail(manifest["first_seq"], f"{manifest_path.name}: signed by an unknown key")
            return report
        if not verify_signature(public_key, canonical_json(manifest), signature):
            report.fail(manifest["first_seq"], f"{manifest_path.name}: bad signature")
            return report
        if manifest["previous_manifest_sha256"] != previous_manifest:
            report.fail(manifest["first_seq"], f"{manifest_path.name}: manifest chain broken")
            return report
        segment = directory / manifest["file"]
        if (
            not segment.exists()
            or hashlib.sha256(segment.read_bytes()).hexdigest() != manifest["file_sha256"]
        ):
            report.fail(manifest["first_seq"], f"{manifest['file']}: missing or altered")
            return report
        chain = bytes.fromhex(manifest["previous_chain_hash"])
        if previous_chain is not None and chain != previous_chain:
            report.fail(manifest["first_seq"], f"{manifest_path.name}: does not follow on")
            return report
        expected = manifest["first_seq"]
        for row in read_jsonl(segment):
            entry = Entry(int(row["seq"]), row["leaf_hash"], row["chain_hash"], row["payload"])
            if entry.seq != expected:
                report.fail(expected, f"{manifest['file']}: entry {expected} missing")
                return report
            if entry.payload is None or leaf_hash(entry.payload).hex() != entry.leaf_hash:
                report.fail(entry.seq, f"entry {entry.seq} was changed in {manifest['file']}")
                return report
            chain = chain_next(chain, bytes.fromhex(entry.leaf_hash))
            if chain.hex() != entry.chain_hash:
                report.fail(entry.seq, f"entry {entry.seq} breaks the chain in {manifest['file']}")
                return report
            report.entries += 1
            expected += 1
        if expected - 1 != manifest["last_seq"]:
            report.fail(
                expected, f"{manifest['file']}: ends at {expected - 1}, not {manifest['last_seq']}"
            )
            return report
        previous_chain = chain
        previous_manifest = hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="an export (entries.jsonl) or an archive")
    parser.add_argument("--trusted-key", action="append", default=[], help="base64 Ed25519 key")
    args = parser.parse_args(argv)
    trusted = set(args.trusted_key) or None
    if (args.directory / "entries.jsonl").exists():
        entries, checkpoints, keys = load_export(args.directory)
        report = verify(entries, checkpoints, trusted_keys=trusted or keys or None)
    else:
        report = verify_archive(args.directory, trusted_keys=trusted)
    if report.ok:
        print(f"OK: {report.entries} entries, {report.checkpoints} checkpoints verified")
        return 0
    print(f"TAMPERED: first bad sequence number {report.first_bad_seq}", file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

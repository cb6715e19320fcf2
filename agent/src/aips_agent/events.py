"""What a mapper hands on besides signals: observations that only feed the edge detectors
(R67.8.6–8). They are never shipped themselves; a detector turns many of them into one signal."""

from dataclasses import dataclass


class Malformed(ValueError):
    """A line or message that cannot be read as its input's format: counted and skipped."""


@dataclass(slots=True)
class AuthFailure:
    """One failed authentication (sshd `Failed password`, Windows 4625, a SIEM's event)."""

    at: float  # Unix seconds, from the event
    account: str
    src_ip: str | None
    product: str
    vendor: str


@dataclass(slots=True)
class Connection:
    """One connection attempt seen at the edge (a Suricata flow, a firewall record)."""

    at: float
    src_ip: str
    dst_ip: str | None
    dst_port: int | None
    protocol: str | None
    product: str
    vendor: str


@dataclass(slots=True)
class Dropped:
    """A record read fine that is not an attack (traffic, audit, an inventory finding, or one no
    rule knows): counted as `not_attacks` in the input's status, never shipped."""

    why: str


@dataclass(slots=True)
class NoEventTime:
    """The signal beside it carries the time its record was READ: the record's own time is
    missing or unreadable. Counted as `no_event_time` in the input's status."""

    why: str

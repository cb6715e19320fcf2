"""The running agent: inputs → mappers → detectors → spool → shipper, plus the heartbeat.
SIGTERM and SIGINT stop it gracefully: inputs stop (their positions are already committed with
their signals), the detectors report the end of every open attack, the shipper gets a few
seconds to flush, the spool closes."""

import logging
import signal
import threading
import time
from types import FrameType

from aips_agent import __version__
from aips_agent.cef import cef_mapper
from aips_agent.config import Config, InputConfig
from aips_agent.detectors import Detectors
from aips_agent.inputs import FileInput, SyslogInput
from aips_agent.mappers import FACTORIES, MapContext, Mapper
from aips_agent.shipper import Heartbeat, Shipper
from aips_agent.signals import Networks, Signal
from aips_agent.spool import Spool, Stopped

log = logging.getLogger("aips_agent")
DETECTORS = "detectors"  # the spool's name for what the detectors report outside an input


def make_mapper(config: Config, item: InputConfig, networks: Networks) -> Mapper:
    ctx = MapContext(sensor=config.name, tz=config.tz, networks=networks, options=item.options)
    if item.type in ("cef", "syslog"):
        return cef_mapper(ctx)
    return FACTORIES[item.type](ctx)


class Agent:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.stop = threading.Event()
        self.spool = Spool(
            config.spool.path,
            max_bytes=config.spool.max_bytes,
            max_items=config.spool.max_items,
            min_free_bytes=config.spool.min_free_bytes,
        )
        networks = Networks(config.internal_networks)
        self.detectors = Detectors(
            scan=config.scan,
            brute_force=config.brute_force,
            spraying=config.spraying,
            networks=networks,
            sensor=config.name,
            max_keys=config.detector_max_keys,
        )
        self.shipper = Shipper(self.spool, config.server, stop=self.stop)
        self.heartbeat = Heartbeat(self.spool, config.server, self.shipper, stop=self.stop)
        self.files: list[FileInput] = []
        self.listeners: list[SyslogInput] = []
        for item in config.inputs:
            mapper = make_mapper(config, item, networks)
            if item.type == "syslog":
                self.listeners.append(
                    SyslogInput(
                        item.name,
                        mapper,
                        self.spool,
                        detectors=self.detectors,
                        stop=self.stop,
                        udp=item.udp,
                        tcp=item.tcp,
                        on_put=self.shipper.wake.set,
                    )
                )
            elif item.path is not None:  # config guarantees a path for file inputs
                self.files.append(
                    FileInput(
                        item.name,
                        item.path,
                        mapper,
                        self.spool,
                        detectors=self.detectors,
                        stop=self.stop,
                        start_at=item.start_at,
                        poll_seconds=config.poll_seconds,
                        on_put=self.shipper.wake.set,
                    )
                )

    def _spool_reports(self, reports: list[Signal], *, block: bool) -> None:
        if not reports:
            return
        try:
            put = self.spool.put(
                DETECTORS,
                reports,
                counters={"signals": len(reports)},
                block=block,
                stop=self.stop,
            )
        except Stopped:
            put = False
        if put:
            self.shipper.wake.set()
        else:
            log.error("spool full: detector reports DROPPED", extra={"reports": len(reports)})

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        self.stop.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._signal)
        signal.signal(signal.SIGINT, self._signal)
        log.info(
            "aips-agent started",
            extra={
                "version": __version__,
                "server": self.config.server.url,
                "inputs": [i.name for i in self.config.inputs],
                "queue_items": self.spool.items,
            },
        )
        for item in self.files:
            item.start()
        for listener in self.listeners:
            listener.start()
        beat = threading.Thread(target=self.heartbeat.run, name="heartbeat", daemon=True)
        beat.start()
        deadline: list[float] = []

        def drain_allowed() -> bool:
            if not deadline:
                deadline.append(time.monotonic() + self.config.shutdown_flush_seconds)
            return time.monotonic() < deadline[0]

        shipper = threading.Thread(
            target=self.shipper.run,
            kwargs={"drain_deadline": drain_allowed},
            name="shipper",
            daemon=True,
        )
        shipper.start()
        while not self.stop.wait(1.0):
            # Quiet periods and periodic updates of open attacks, on the agent's own clock.
            self._spool_reports(self.detectors.tick(), block=True)
        for item in self.files:
            item.join(10)
        for listener in self.listeners:
            listener.join(10)
        # The inputs are done: every open attack gets its final report, shipped with the rest.
        self._spool_reports(self.detectors.flush(), block=False)
        shipper.join(self.config.shutdown_flush_seconds + self.config.server.timeout + 5)
        if self.spool.items and not shipper.is_alive() and drain_allowed():
            self.shipper.run(drain_deadline=drain_allowed)  # it had found the queue empty
        self.shipper.client.close()
        failed = [i.input_name for i in self.files if i.failed is not None]
        self.spool.close()
        log.info("aips-agent stopped", extra={"queue_items": self.spool.items})
        return 1 if failed else 0

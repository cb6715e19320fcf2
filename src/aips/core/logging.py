"""Structured JSON logs; every line carries the request id bound by RequestIdMiddleware."""

from typing import Any

import structlog

PRE_CHAIN: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
RENDERER = structlog.processors.JSONRenderer()

structlog.configure(
    processors=[
        *PRE_CHAIN,
        structlog.processors.format_exc_info,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)

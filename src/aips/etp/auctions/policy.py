"""The auctions' settings (docs/domains/etp.md, "Trading rules"), read at the moment of use."""

from decimal import Decimal

from django.conf import settings


def min_bidders() -> int:
    """Admitted participants an auction needs to open; fewer makes it unsuccessful."""
    return int(getattr(settings, "AIPS_ETP_MIN_BIDDERS", 2))


def repeat_reduction_percent() -> Decimal:
    """How much lower a repeat attempt starts than the attempt before it."""
    return Decimal(str(getattr(settings, "AIPS_ETP_REPEAT_REDUCTION_PERCENT", 10)))


def repeat_floor_percent() -> Decimal:
    """The lowest start price of a repeat, as a percentage of the first attempt's."""
    return Decimal(str(getattr(settings, "AIPS_ETP_REPEAT_FLOOR_PERCENT", 50)))


def repeat_after_days() -> int:
    """Days between an unsuccessful attempt's end and its repeat's start."""
    return int(getattr(settings, "AIPS_ETP_REPEAT_AFTER_DAYS", 7))


def dutch_sealed_finish() -> bool:
    """Whether a descending auction's first acceptance opens a sealed round and a best-bid
    round for the accepter (True) or wins outright (False)."""
    return bool(getattr(settings, "AIPS_ETP_DUTCH_SEALED_FINISH", False))


def bid_rate() -> str:
    """Each participant's bid budget ("count/s|m|h"), about one a second."""
    return str(getattr(settings, "AIPS_ETP_BID_RATE", "1/s"))


def contract_sign_days() -> int:
    """Working days the winner (or the runner-up) has to sign the contract."""
    return int(getattr(settings, "AIPS_ETP_CONTRACT_SIGN_DAYS", 5))


def payment_days() -> int:
    """Working days from the contract's signature to the payment's confirmation."""
    return int(getattr(settings, "AIPS_ETP_PAYMENT_DAYS", 10))


def runner_up_offer() -> bool:
    """Whether the winner's refusal or missed deadline offers the lot to the runner-up (True) or
    declares the procedure unsuccessful (False)."""
    return bool(getattr(settings, "AIPS_ETP_RUNNER_UP_OFFER", True))

import pytest

from aips.core.identifiers import bin_check_digit, bin_error, normalize_phone, normalize_phones


@pytest.mark.parametrize("value", ["940140000385", "971240001315", "990840001239"])
def test_r67_5_bin_check_digit_accepts_real_bins(value: str) -> None:
    assert bin_error(value) is None


@pytest.mark.parametrize("value", ["940140000386", "971240001310", "990840001230"])
def test_r67_5_bin_with_bad_check_digit_is_rejected(value: str) -> None:
    assert "check digit" in (bin_error(value) or "")


@pytest.mark.parametrize(
    "value", ["", "94014000038", "9401400003850", "94014000038a", "９４０１４００００３８５"]
)
def test_r67_5_bin_wrong_length_or_not_digits(value: str) -> None:
    assert "12 digits" in (bin_error(value) or "")


def test_r67_5_bin_second_weighting_pass() -> None:
    # Find an 11-digit stem whose first pass gives 10, so the second weights decide.
    stem = next(
        f"{n:011d}"
        for n in range(10**9, 10**9 + 10_000)
        if sum(int(d) * w for d, w in zip(f"{n:011d}", range(1, 12), strict=True)) % 11 == 10
    )
    digit = bin_check_digit(stem)
    weights = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
    second = sum(int(d) * w for d, w in zip(stem, weights, strict=True)) % 11
    if second == 10:
        assert digit is None
        assert all(bin_error(stem + str(d)) for d in range(10))
    else:
        assert digit == second
        assert bin_error(stem + str(second)) is None


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("8 701 123 45 67", "+77011234567"),
        ("87011234567", "+77011234567"),
        ("+7 (701) 123-45-67", "+77011234567"),
        ("7011234567", "+77011234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_r67_6_phone_local_formats_become_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["123", "phone", "+7 701 123", ""])
def test_r67_6_bad_phone_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        normalize_phone(raw)


def test_r67_6_phones_deduplicated_in_order() -> None:
    assert normalize_phones(["8 701 123 45 67", "", "+77011234567", "+7 705 300 00 02"]) == [
        "+77011234567",
        "+77053000002",
    ]

"""The redaction prefilters (api/logs.py ``_suspect`` per text, ``_plain`` per line) only skip what no
pattern could change."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from api.logs import REDACTED, _redact_each, _scrub_all, redact, scrub

# Characters the patterns care about, plus enough filler to make ordinary text.
_ALPHABET = st.sampled_from(list("0123456789 -*xX•=eyJ.abcBEARERbearer_;&tokenTOKEN") + ["4111", "eyJhbGci", "Bearer "])


@given(st.lists(_ALPHABET, max_size=40).map("".join))
@settings(max_examples=3000, deadline=None)
def test_prefilter_never_skips_what_a_pattern_would_change(text: str) -> None:
    # given any text built from the patterns' own characters
    # when it is scrubbed with and without the prefilter
    # then the results are the same
    assert scrub(text) == _scrub_all(text)


def test_prefilter_still_catches_each_kind() -> None:
    # given one example of each secret shape
    samples = [
        "token=abcdefgh1234",
        "Authorization: Bearer abcdefghijk",
        "card 536181******1234 used",
        "pan 4111 1111 1111 1111",
        "jwt eyJhbGciOi.eyJzdWIiOi.sig",
    ]
    # then every one is redacted
    for text in samples:
        assert REDACTED in scrub(text), text
    # and plain identifiers pass untouched
    assert scrub("imp_pc_18c2a_charge") == "imp_pc_18c2a_charge"


_VALUES = st.one_of(st.lists(_ALPHABET, max_size=12).map("".join), st.integers(), st.none(), st.booleans())
_KEYS = st.sampled_from(["event", "request_id", "imp_uid", "user_id", "detail", "token", "password", "status"])


@given(st.dictionaries(_KEYS, _VALUES, max_size=6))
@settings(max_examples=2000, deadline=None)
def test_one_check_per_line_never_skips_what_the_pass_per_value_would_change(line: dict[str, object]) -> None:
    # given any log line whose values are built from the patterns' own characters
    # when it is redacted with the one check over the whole line, and value by value
    # then the results are the same
    assert redact(None, "info", dict(line)) == _redact_each(dict(line))

"""The vendored PortOne specs (third_party/portone/) are the reference bundle's, unchanged."""

from __future__ import annotations

import pytest

from tests.sandbox.spec import REFERENCE, VENDORED


@pytest.mark.parametrize("name", ["v1.openapi.yml", "v2.openapi.yml"])
def test_vendored_spec_matches_the_reference_bundle(name: str) -> None:
    # given the reference bundle beside this clone (developer machines and CI have it)
    reference = REFERENCE / "openapi" / name
    if not reference.is_file():
        pytest.skip(f"no reference bundle at {REFERENCE}")
    # then the copy the tests validate against is byte for byte the same
    assert (VENDORED / "openapi" / name).read_bytes() == reference.read_bytes()

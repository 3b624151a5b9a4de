"""devhost.malloc: glibc's malloc gives big blocks mappings of their own, returned to the system when freed."""
from __future__ import annotations

import platform

import pytest

from devhost.malloc import map_big_blocks


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_big_blocks_are_mapped_on_glibc():
    assert map_big_blocks() is True


def test_without_glibcs_mallopt_it_says_so_instead_of_failing(monkeypatch):
    import ctypes

    class NoMallopt:
        def __init__(self, *_args):
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert map_big_blocks() is False

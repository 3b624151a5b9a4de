"""glibc's malloc tuned for big, short-lived blocks (request bodies, function inputs): used by the host and by
every worker process, so it sits below both."""
from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def map_big_blocks(threshold: int = 128 * 1024) -> bool:
    """Have glibc's malloc give blocks above `threshold` their own mappings, returned to the system when freed.
    Its default raises that threshold each time a big block is freed, so after one burst of big bodies the copies
    of the next ones come from the heap and the heap stays at its peak. False where there is no glibc."""
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False

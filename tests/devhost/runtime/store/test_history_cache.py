"""devhost.runtime.store.history_cache: histories kept by the size of their stored text, most recently used first,
appended only when the one kept is exactly what the file held before the new events."""
from __future__ import annotations

from devhost.runtime.store.history_cache import HistoryCache


def events(n: int, start: int = 0) -> list[dict]:
    return [{"EventId": i} for i in range(start, start + n)]


def texts(n: int, size: int) -> list[str]:
    """n stored texts of `size` bytes in all."""
    return ["x" * (size // n)] * (n - 1) + ["x" * (size - size // n * (n - 1))]


def test_a_history_is_handed_out_as_a_new_list_and_missing_ones_are_none():
    cache = HistoryCache(limit=1000)
    cache.put("a", events(2), texts(2, 10))

    got = cache.get("a")
    got.append({"EventId": 99})

    assert cache.get("a") == events(2) and cache.get("b") is None


def test_the_least_recently_used_go_first_when_the_text_outgrows_the_limit():
    cache = HistoryCache(limit=100)
    for name in "abcd":
        cache.put(name, events(1), texts(1, 25))
    cache.get("a")  # a is used again: b is now the oldest

    cache.put("e", events(1), texts(1, 25))

    assert [n for n in "abcde" if cache.get(n) is not None] == ["a", "c", "d", "e"]


def test_one_history_over_a_quarter_of_the_limit_is_not_kept():
    cache = HistoryCache(limit=100)
    cache.put("big", events(3), texts(3, 26))

    assert cache.get("big") is None


def test_new_events_are_appended_only_to_a_history_of_exactly_the_length_before_them():
    cache = HistoryCache(limit=1000)
    cache.put("a", events(2), texts(2, 10))
    cache.extend("a", 2, events(1, start=2), texts(1, 5))
    assert cache.get("a") == events(3)

    cache.extend("a", 2, events(1, start=3), texts(1, 5))  # the kept one has 3: it is no longer what the file holds

    assert cache.get("a") is None


def test_forget_and_clear_free_their_bytes():
    cache = HistoryCache(limit=100)
    cache.put("a", events(1), texts(1, 25))
    cache.forget("a")
    for name in "bcde":
        cache.put(name, events(1), texts(1, 25))
    cache.clear()
    cache.put("f", events(1), texts(1, 25))

    assert cache.get("f") == events(1) and all(cache.get(n) is None for n in "bcde")


def test_the_texts_are_kept_with_their_events_and_appended_with_them():
    cache = HistoryCache(limit=1000)
    cache.put("a", events(2), ["t0", "t1"])
    cache.extend("a", 2, events(1, start=2), ["t2"])

    got = cache.get_with_texts("a")
    assert got == (events(3), ["t0", "t1", "t2"])
    got[1].append("t3")  # a copy: what is kept does not change
    assert cache.get_with_texts("a")[1] == ["t0", "t1", "t2"]


def test_a_history_that_outgrows_its_quarter_by_new_events_is_forgotten():
    cache = HistoryCache(limit=100)
    cache.put("a", events(1), texts(1, 20))
    cache.extend("a", 1, events(1, start=1), texts(1, 6))  # 26 > 100 // 4

    assert cache.get("a") is None
    cache.put("b", events(1), texts(1, 25))
    assert cache.get("b") is not None  # the bytes of the forgotten one were given back

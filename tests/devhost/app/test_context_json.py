"""The worker's decoding of orchestration contexts (ContextDecoder): the same dicts as json.loads on every episode of
a real orchestration, decoding only the new events; anything laid out otherwise is json.loads' own."""
from __future__ import annotations

import json
import sys
from typing import Any

import azure.durable_functions as df
import pytest

from devhost.app.bindings import memoize_sdk
from devhost.app.context_json import ContextDecoder
from tests.devhost.orchestration_driver import Driver


def chain(context: df.DurableOrchestrationContext):
    total = 0
    for step in range(12):
        total += yield context.call_activity("Hello", {"step": step, "text": "é\u2028\"quoted\""})
    return total


def contexts(input_: Any = None) -> list[str]:
    """Each episode's context JSON as the host builds it, for a chain of 12 activities."""
    driver = Driver(chain, input_=input_ or {"n": 12})
    texts = []
    driver.episode()
    texts.append(driver.episodes[-1].context_json(driver.input, None))
    for task_id in range(12):
        driver.complete(task_id, task_id * 1.5)
        driver.episode()
        texts.append(driver.episodes[-1].context_json(driver.input, None))
    return texts


def test_every_episodes_context_decodes_as_json_loads_decodes_it_reusing_the_played_events():
    decoder = ContextDecoder(min_chars=0)
    texts = contexts()
    other = Driver(chain, instance_id="other", input_={"n": 1})  # another instance's contexts in between
    other.episode()
    for text in texts:
        assert decoder.loads(text) == json.loads(text)
        assert decoder.loads(other.episodes[-1].context_json(other.input, None)) == \
            json.loads(other.episodes[-1].context_json(other.input, None))
    played = sum(len(json.loads(t)["history"]) - 2 for t in texts[1:-1])  # all but OrchestratorStarted + news
    assert decoder.reused >= played // 2  # most of each history came from the episode before


def test_a_short_context_is_decoded_by_json_loads_and_nothing_is_kept():
    decoder = ContextDecoder()
    text = contexts()[1]
    assert len(text) < decoder.min_chars
    assert decoder.loads(text) == json.loads(text) and decoder.loads(text) == json.loads(text)
    assert decoder.reused == 0 and decoder.history_events(decoder.loads(text)["history"], dict) is None


@pytest.mark.parametrize("text", [
    '{"history":[]}', '{"history":[] }', '{"history":[],"input":null,"history":[1]}',
    '{"history":[{"IsPlayed":true,"a":1}, {"IsPlayed":true}],"x":1}',  # a space after a comma
    '{"history":[{"IsPlayed":true,"a":1}],"x":1}  \n', '{"history":[1,2,3],"y":[{"z":NaN}]}',
])
def test_texts_laid_out_otherwise_decode_as_json_loads_decodes_them(text):
    decoder = ContextDecoder(min_chars=0)
    assert decoder.loads(text) == json.loads(text) or text.find("NaN") > 0
    assert repr(decoder.loads(text)) == repr(json.loads(text))  # NaN too, and the order of keys
    assert list(decoder.loads(b'{"history":[]}')) == ["history"]


@pytest.mark.parametrize("text", ['{"history":[{"IsPlayed":true}],"x":}', '{"history":[{"IsPlayed":true}]}x',
                                  '{"history":[{"IsPlayed":true}', '{"history":[{"IsPlayed":true}]'])
def test_a_broken_text_fails_as_json_loads_fails(text):
    decoder = ContextDecoder(min_chars=0)
    with pytest.raises(json.JSONDecodeError) as mine:
        decoder.loads(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert str(mine.value) == str(theirs.value)


def test_a_changed_played_event_is_decoded_again():
    decoder = ContextDecoder(min_chars=0)
    first = '{"history":[{"IsPlayed":true,"v":1},{"IsPlayed":false}],"i":1}'
    decoder.loads(first)
    changed = '{"history":[{"IsPlayed":true,"v":2},{"IsPlayed":true},{"IsPlayed":false}],"i":1}'
    assert decoder.loads(changed) == json.loads(changed)
    assert decoder.reused == 0
    longer = changed.replace('"i":1', '"i":2').replace('{"IsPlayed":false}', '{"IsPlayed":true},{"n":3}')
    assert decoder.loads(longer) == json.loads(longer) and decoder.reused == 2


# -- the SDK's HistoryEvents, reused from one episode to the next ---------------------------------------------------
def attributes(context: Any) -> dict[str, Any]:
    """What a DurableOrchestrationContext holds, its HistoryEvents by their attributes."""
    found = dict(vars(context))
    found["_histories"] = [vars(e) for e in found["_histories"]]
    found["decision_started_event"] = vars(found["decision_started_event"])
    found["open_tasks"], found["_function_context"] = dict(found["open_tasks"]), vars(found["_function_context"])
    return found


def test_each_episodes_context_holds_what_the_sdk_builds_with_the_last_episodes_history_events():
    memoize_sdk()
    module = sys.modules["azure.durable_functions.models.DurableOrchestrationContext"]
    context_class, decoder = module.DurableOrchestrationContext, module.json.decoder
    before = decoder.reused_built
    previous: list[Any] = []
    for text in contexts({"n": 12, "padding": "x" * decoder.min_chars}):  # long enough to be kept
        ours = context_class.from_json(text)
        theirs = context_class(**json.loads(text))  # not the list the decoder gave: the SDK's own __init__
        assert attributes(ours) == attributes(theirs)
        # every played event of the last episode is the very object it was then
        played = [e for e in ours.histories if e.is_played][:len(previous)]
        assert all(a is b for a, b in zip(played, previous))
        previous = [e for e in ours.histories if e.is_played]
    assert decoder.reused_built - before >= sum(range(2, 24, 2))


def test_history_events_are_reused_only_for_the_list_just_decoded_and_the_same_dicts():
    decoder = ContextDecoder(min_chars=0)
    texts = contexts()
    made: list[dict[str, Any]] = []

    def make(**fields: Any) -> dict[str, Any]:
        made.append(fields)
        return dict(fields)

    assert decoder.history_events(decoder.loads(texts[1])["history"], make) is not None
    history = decoder.loads(texts[2])["history"]
    assert decoder.history_events(list(history), make) is None  # another list
    assert decoder.history_events(history, make) is None  # asked once already: offered once only

    assert decoder.history_events(decoder.loads(texts[3])["history"], make) is not None
    history = decoder.loads(texts[4])["history"]
    history[0] = dict(history[0], Timestamp="2024-05-01T12:00:00.5000000Z")  # not the event kept: none reused
    made.clear()
    built = decoder.history_events(history, make)
    assert built == history and len(made) == len(history)

    history = decoder.loads(texts[5])["history"]
    made.clear()
    built = decoder.history_events(history, make)
    assert built == history and len(made) == len(history)  # none kept from the changed list

    history = decoder.loads(texts[6])["history"]
    made.clear()
    built = decoder.history_events(history, make)
    assert built == history and 0 < len(made) < len(history) // 2

"""The worker's decoding of orchestration contexts (ContextDecoder): the same dicts as json.loads on every episode of
a real orchestration, decoding only the new events; anything laid out otherwise is json.loads' own."""
from __future__ import annotations

import json

import azure.durable_functions as df
import pytest

from devhost.app.context_json import ContextDecoder
from tests.devhost.orchestration_driver import Driver


def chain(context: df.DurableOrchestrationContext):
    total = 0
    for step in range(12):
        total += yield context.call_activity("Hello", {"step": step, "text": "é\u2028\"quoted\""})
    return total


def contexts() -> list[str]:
    """Each episode's context JSON as the host builds it, for a chain of 12 activities."""
    driver = Driver(chain, input_={"n": 12})
    texts = []
    driver.episode()
    texts.append(driver.episodes[-1].context_json(driver.input, None))
    for task_id in range(12):
        driver.complete(task_id, task_id * 1.5)
        driver.episode()
        texts.append(driver.episodes[-1].context_json(driver.input, None))
    return texts


def test_every_episodes_context_decodes_as_json_loads_decodes_it_reusing_the_played_events():
    decoder = ContextDecoder()
    texts = contexts()
    other = Driver(chain, instance_id="other", input_={"n": 1})  # another instance's contexts in between
    other.episode()
    for text in texts:
        assert decoder.loads(text) == json.loads(text)
        assert decoder.loads(other.episodes[-1].context_json(other.input, None)) == \
            json.loads(other.episodes[-1].context_json(other.input, None))
    played = sum(len(json.loads(t)["history"]) - 2 for t in texts[1:-1])  # all but OrchestratorStarted + news
    assert decoder.reused >= played // 2  # most of each history came from the episode before


@pytest.mark.parametrize("text", [
    '{"history":[]}', '{"history":[] }', '{"history":[],"input":null,"history":[1]}',
    '{"history":[{"IsPlayed":true,"a":1}, {"IsPlayed":true}],"x":1}',  # a space after a comma
    '{"history":[{"IsPlayed":true,"a":1}],"x":1}  \n', '{"history":[1,2,3],"y":[{"z":NaN}]}',
])
def test_texts_laid_out_otherwise_decode_as_json_loads_decodes_them(text):
    decoder = ContextDecoder()
    assert decoder.loads(text) == json.loads(text) or text.find("NaN") > 0
    assert repr(decoder.loads(text)) == repr(json.loads(text))  # NaN too, and the order of keys
    assert list(decoder.loads(b'{"history":[]}')) == ["history"]


@pytest.mark.parametrize("text", ['{"history":[{"IsPlayed":true}],"x":}', '{"history":[{"IsPlayed":true}]}x',
                                  '{"history":[{"IsPlayed":true}', '{"history":[{"IsPlayed":true}]'])
def test_a_broken_text_fails_as_json_loads_fails(text):
    decoder = ContextDecoder()
    with pytest.raises(json.JSONDecodeError) as mine:
        decoder.loads(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert str(mine.value) == str(theirs.value)


def test_a_changed_played_event_is_decoded_again():
    decoder = ContextDecoder()
    first = '{"history":[{"IsPlayed":true,"v":1},{"IsPlayed":false}],"i":1}'
    decoder.loads(first)
    changed = '{"history":[{"IsPlayed":true,"v":2},{"IsPlayed":true},{"IsPlayed":false}],"i":1}'
    assert decoder.loads(changed) == json.loads(changed)
    assert decoder.reused == 0
    longer = changed.replace('"i":1', '"i":2').replace('{"IsPlayed":false}', '{"IsPlayed":true},{"n":3}')
    assert decoder.loads(longer) == json.loads(longer) and decoder.reused == 2

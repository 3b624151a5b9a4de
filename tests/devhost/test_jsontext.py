"""devhost.jsontext: request bodies are JSON that others can read back (finite numbers, nesting the extension's reader
takes), and stored text is shown without ever failing a read."""
from __future__ import annotations

import json

import pytest

from devhost import jsontext


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", '{"a": [1, NaN]}',
                                  '{"big": 1E400}'])
def test_numbers_json_cannot_write_back_are_refused(text):
    with pytest.raises(ValueError, match="is not a JSON value"):
        jsontext.parse(text)


@pytest.mark.parametrize("text", ["1e308", "-0", "1e-999", "123456789012345678901234567890", '"NaN"'])
def test_finite_numbers_and_strings_that_look_like_constants_are_taken(text):
    assert jsontext.parse(text) == json.loads(text)


def test_text_nested_deeper_than_the_readers_limit_is_refused():
    with pytest.raises(ValueError, match="MaxDepth of 64"):
        jsontext.parse("[" * 65 + "]" * 65)


def test_a_stored_value_that_is_not_json_others_can_read_is_shown_as_its_text():
    """A user function's output or custom status can hold NaN (Python's json writes it): the status shows the text,
    so what the host answers stays JSON the dashboard can parse."""
    assert jsontext.shown('{"ratio": NaN}') == '{"ratio": NaN}'
    assert json.loads(json.dumps(jsontext.shown("Infinity"))) == "Infinity"
    assert jsontext.shown('{"ratio": 0.5}') == {"ratio": 0.5}
    assert jsontext.shown(None) is None

"""Unit tests for the Hello activity: a plain function, called as the worker would call it."""

import importlib

import pytest

hello = importlib.import_module("Hello")


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Tokyo", "Hello Tokyo!"),
        ("Seattle", "Hello Seattle!"),
        ("London", "Hello London!"),
        ("São Paulo", "Hello São Paulo!"),
        ("東京", "Hello 東京!"),
        ("Zürich 🇨🇭", "Hello Zürich 🇨🇭!"),
        ("", "Hello !"),
    ],
)
def test_hello_greets_the_name(name, greeting):
    assert hello.main(name) == greeting

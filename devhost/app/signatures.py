"""Checks a function's parameters against its bindings at load time, as the Python worker's functions.Registry does
(add_function, add_indexed_function): a mismatch is the worker's FunctionLoadError, with the worker's words, so an
app the worker refuses to load is refused here too."""
from __future__ import annotations

import collections.abc
import inspect
import typing
from typing import Any, Callable

from azure.functions import meta

from devhost.model import Binding, FunctionSpec

_REGISTRY = meta.get_binding_registry()
_DATA_TYPES = {"string": 1, "binary": 2, "stream": 3}  # the host's BindingInfo.DataType, as the worker prints it


class FunctionLoadError(RuntimeError):
    """The worker's own exception type and text for a function it cannot load."""

    def __init__(self, function_name: str, msg: str) -> None:
        super().__init__(f"cannot load the {function_name} function: {msg}")


class _Generic:
    """The worker's GenericBinding: what it checks for a binding type azure.functions has no converter for."""

    @staticmethod
    def check_input_type_annotation(pytype: type) -> bool:
        return issubclass(pytype, (str, bytes))

    @staticmethod
    def check_output_type_annotation(pytype: type) -> bool:
        return issubclass(pytype, (str, bytes, bytearray))


def _binding(type_name: str) -> Any:
    return _REGISTRY.get(type_name) or _Generic


def _has_implicit_output(type_name: str) -> bool:
    """meta.has_implicit_output in the worker: the generic binding claims one for every type but durableClient."""
    converter = _REGISTRY.get(type_name)
    if converter is None:
        return type_name != "durableClient"
    return bool(getattr(converter, "has_implicit_output", lambda: False)())


def _is_generic_type(tp: Any) -> bool:
    """The worker's typing_inspect.is_generic_type (List[int], Generic subclasses; not Union, Tuple, Callable)."""
    special = (typing._GenericAlias, typing._SpecialGenericAlias)  # type: ignore[attr-defined]
    return (isinstance(tp, type) and issubclass(tp, typing.Generic)  # type: ignore[arg-type]
            or isinstance(tp, special) and tp.__origin__ not in (typing.Union, tuple, typing.ClassVar,
                                                                 collections.abc.Callable))


def _is_out(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) if _is_generic_type(annotation) else None
    candidate = origin if origin is not None else annotation
    return isinstance(candidate, type) and candidate.__name__ == "Out"


def check_signature(name: str, main: Callable[..., Any], bindings: tuple[Binding, ...]) -> None:
    """Raise the worker's FunctionLoadError when `main`'s parameters and annotations do not fit `bindings`."""
    params = dict(inspect.signature(main).parameters)
    annotations = typing.get_type_hints(main)
    bound: dict[str, Binding] = {}
    explicit_return = False
    return_binding: str | None = None
    for b in bindings:
        if b.direction == "inout":
            raise FunctionLoadError(name, '"inout" bindings are not supported')
        if b.name == "$return" and b.direction != "out":
            raise FunctionLoadError(name, '"$return" binding must have direction set to "out"')
        if b.name == "$return":
            explicit_return, return_binding = True, b.type
        else:
            bound[b.name] = b
    if "context" in params and "context" not in bound:
        params.pop("context")
        annotation = annotations.get("context")
        if "context" in annotations and (not isinstance(annotation, type) or annotation.__name__ != "Context"):
            raise FunctionLoadError(name, 'the "context" parameter is expected to be of type '
                                          f"azure.functions.Context, got {annotation!r}")
    if set(params) - set(bound):
        raise FunctionLoadError(name, "the following parameters are declared in Python but not in function.json: "
                                      f"{set(params) - set(bound)!r}")
    if set(bound) - set(params):
        raise FunctionLoadError(name, "the following parameters are declared in function.json but not in Python: "
                                      f"{set(bound) - set(params)!r}")
    for param in params.values():
        _check_parameter(name, param.name, bound[param.name], annotations)
    if explicit_return and "return" in annotations:
        _check_return(name, annotations["return"], return_binding or "")


def _check_parameter(name: str, param: str, binding: Binding, annotations: dict[str, Any]) -> None:
    has_annotation = param in annotations
    annotation = annotations.get(param)
    is_param_out = has_annotation and _is_out(annotation)
    pytype = annotation
    if is_param_out:
        args = typing.get_args(annotation)
        if len(args) != 1:
            raise FunctionLoadError(name, f"binding {param} has invalid Out annotation {annotation!r}")
        pytype = args[0]
    if has_annotation and not isinstance(pytype, type) and not _is_generic_type(pytype):
        raise FunctionLoadError(name, f"binding {param} has invalid non-type annotation {annotation!r}")
    is_binding_out = binding.direction == "out"
    if is_binding_out and has_annotation and not is_param_out:
        raise FunctionLoadError(name, f'binding {param} is declared to have the "out" direction, but its '
                                      "annotation in Python is not a subclass of azure.functions.Out")
    if not is_binding_out and is_param_out:
        raise FunctionLoadError(name, f'binding {param} is declared to have the "in" direction in function.json, '
                                      "but its annotation is azure.functions.Out in Python")
    if not has_annotation:
        return
    generic = pytype in (str, bytes) and not _has_implicit_output(binding.type)
    converter = _Generic if generic else _binding(binding.type)
    fits = (converter.check_output_type_annotation(pytype) if is_param_out
            else converter.check_input_type_annotation(pytype))
    if fits:
        return
    data_type = str(binding.raw.get("dataType") or "").lower()
    if data_type in _DATA_TYPES:
        raise FunctionLoadError(name, f'{param!r} binding type "{binding.type}" and dataType '
                                      f'"{_DATA_TYPES[data_type]}" in function.json do not match the corresponding '
                                      f'function parameter\'s Python type annotation "{pytype.__name__}"')
    raise FunctionLoadError(name, f'type of {param} binding in function.json "{binding.type}" does not match its '
                                  f'Python annotation "{pytype.__name__}"')


def _check_return(name: str, annotation: Any, binding_type: str) -> None:
    if _is_generic_type(annotation) and typing.get_origin(annotation).__name__ == "Out":
        raise FunctionLoadError(name, "return annotation should not be azure.functions.Out")
    if not isinstance(annotation, type):
        raise FunctionLoadError(name, f"has invalid non-type return annotation {annotation!r}")
    if not _binding(binding_type).check_output_type_annotation(annotation):
        raise FunctionLoadError(name, f'Python return annotation "{annotation.__name__}" does not match binding '
                                      f'type "{binding_type}"')


def check_spec(spec: FunctionSpec, main: Callable[..., Any]) -> None:
    """check_signature for a loaded function spec."""
    check_signature(spec.name, main, spec.bindings)

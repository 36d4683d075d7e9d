"""Encode and decode protocol messages as `Name|field|field` lines."""

from app import messages_gen

TYPES = {name: getattr(messages_gen, name) for name in dir(messages_gen) if name[:1].isupper()}
TYPES.pop("NamedTuple", None)


def encode(message: tuple) -> str:
    return "|".join([type(message).__name__, *map(str, message)])


def decode(line: str) -> tuple:
    name, *values = line.split("|")
    cls = TYPES[name]
    hints = cls.__annotations__
    return cls(*(hints[f](v) for f, v in zip(cls._fields, values, strict=True)))

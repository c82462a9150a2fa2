"""Parsing registered schemas with Apache Avro, references resolved; identity by canonical form.

Two texts are the same schema (same id) when Avro's parsing canonical form is
the same *and* so is every attribute that form drops but that changes how data
is read: field defaults, logical types (with precision and scale), aliases,
sort order and custom properties.  Whitespace, key order, ``doc`` and the way a
name is spelled (``"t.R"`` or ``"R"`` in namespace ``t``) do not matter.  Without
the second part, a schema that only adds a default, or turns a ``long`` into a
``timestamp-millis``, would silently get the old id and the old text.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import avro.errors
import avro.name
import avro.schema

from streams.registry.errors import InvalidSchemaError

__all__ = ["ParsedSchema", "Reference", "parse_avro"]


@dataclass(frozen=True)
class Reference:
    """A named type this schema uses that is registered under another subject."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True)
class ParsedSchema:
    text: str
    canonical: str  # Avro's parsing canonical form
    identity_form: str  # canonical form plus the attributes it drops that change how data is read
    schema: avro.schema.Schema = field(compare=False, repr=False)
    references: tuple[Reference, ...] = ()

    @property
    def identity(self) -> tuple[str, tuple[Reference, ...]]:
        """Same identity form and same references: the same schema (same id)."""
        return self.identity_form, self.references


ResolveRef = Callable[[Reference], "ParsedSchema"]


def parse_avro(text: str, references: tuple[Reference, ...] = (), resolve: ResolveRef | None = None) -> ParsedSchema:
    """Parse ``text`` with its referenced types defined first; ``InvalidSchemaError`` if it is not Avro."""
    names = avro.name.Names()
    for ref in references:
        if resolve is None:
            raise InvalidSchemaError(f"reference {ref.name} cannot be resolved")
        referenced = resolve(ref)
        _define(referenced, names, resolve)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidSchemaError(f"Invalid schema: not JSON: {exc}") from exc
    try:
        schema = avro.schema.make_avsc_object(data, names)
    except (avro.errors.AvroException, avro.errors.SchemaParseException, TypeError, KeyError, ValueError,
            AttributeError) as exc:
        raise InvalidSchemaError(f"Invalid schema: not Avro: {exc}") from exc
    canonical = _canonical(schema, names)
    full = json.dumps(_without_docs(schema.to_json()), sort_keys=True, separators=(",", ":"))
    return ParsedSchema(text=text, canonical=canonical, identity_form=f"{canonical}\n{full}", schema=schema,
                        references=references)


def _without_docs(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_docs(v) for k, v in value.items() if k != "doc"}
    if isinstance(value, list):
        return [_without_docs(v) for v in value]
    return value


def _define(parsed: ParsedSchema, names: avro.name.Names, resolve: ResolveRef) -> None:
    for ref in parsed.references:
        _define(resolve(ref), names, resolve)
    if parsed.schema.get_prop("name") is None:
        return
    with contextlib.suppress(avro.errors.SchemaParseException):  # defined already by another reference path
        avro.schema.make_avsc_object(json.loads(parsed.text), names)


def _canonical(schema: avro.schema.Schema, names: avro.name.Names) -> str:
    try:
        return str(schema.canonical_form)
    except (AttributeError, avro.errors.AvroException):
        return json.dumps(schema.to_json(names), sort_keys=True, separators=(",", ":"))

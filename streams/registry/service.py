"""Registry operations, one method per REST call, over ``KafkaStore`` (no HTTP here)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from streams.registry.compat import Level, incompatibilities, parse_level
from streams.registry.errors import (
    IncompatibleSchemaError,
    InvalidSchemaError,
    InvalidVersionError,
    SchemaNotFoundError,
    SubjectLevelConfigNotFoundError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
)
from streams.registry.schema import ParsedSchema, Reference, parse_avro
from streams.registry.state import RegistryState, Version, config_key, schema_key
from streams.registry.store import KafkaStore, Lost, Records

__all__ = ["SUPPORTED_TYPES", "Registry", "canonicalize"]

SUPPORTED_TYPES = ("AVRO",)


def _resolver(state: RegistryState) -> Callable[[Reference], ParsedSchema]:
    def resolve(ref: Reference) -> ParsedSchema:
        version = state.subjects.get(ref.subject, {}).get(ref.version)
        if version is None:
            raise InvalidSchemaError(f"Invalid schema: reference {ref.name} -> {ref.subject} version "
                                     f"{ref.version} does not exist")
        stored = state.schemas[version.id]
        return parse_avro(stored.text, stored.references, resolve)
    return resolve


def canonicalize(text: str, refs: tuple[Reference, ...], state: RegistryState) -> str:
    return parse_avro(text, refs, _resolver(state)).identity_form


def parse_version(value: str) -> int | None:
    """``latest``/-1 -> None; a positive int; else 42202."""
    if value in ("latest", "-1"):
        return None
    if not value.isdigit() or int(value) < 1 or int(value) > 2**31 - 1:
        raise InvalidVersionError(f"The specified version '{value}' is not a valid version id. Allowed values "
                                  "are between [1, 2^31-1] and the string \"latest\"")
    return int(value)


class Registry:
    def __init__(self, store: KafkaStore) -> None:
        self.store = store
        self._parsed: dict[str, ParsedSchema] = {}  # schema text (without references) -> parsed

    # ---- request parsing ----
    def parse_request(self, body: dict[str, Any]) -> tuple[str, tuple[Reference, ...]]:
        schema_type = str(body.get("schemaType") or "AVRO").upper()
        if schema_type not in SUPPORTED_TYPES:
            raise InvalidSchemaError(f"Invalid schema: schema type {schema_type} is not supported by this "
                                     f"registry (supported: {', '.join(SUPPORTED_TYPES)})")
        text = body.get("schema")
        if not isinstance(text, str) or not text.strip():
            raise InvalidSchemaError("Invalid schema: the request has no \"schema\" string")
        refs = []
        for raw in body.get("references") or []:
            try:
                refs.append(Reference(str(raw["name"]), str(raw["subject"]), int(raw["version"])))
            except (KeyError, TypeError, ValueError):
                raise InvalidSchemaError(f"Invalid schema: malformed reference {raw!r}") from None
        return text, tuple(refs)

    def _parse(self, state: RegistryState, text: str, refs: tuple[Reference, ...]) -> ParsedSchema:
        if refs:  # referenced schemas may change (soft deletes): resolve each time
            return parse_avro(text, refs, _resolver(state))
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = parse_avro(text)
            if len(self._parsed) >= 1024:
                self._parsed.clear()
            self._parsed[text] = parsed
        return parsed

    # ---- subjects and versions ----
    def subjects(self, deleted: bool = False) -> list[str]:
        return self.store.read(lambda s: s.subject_names(deleted=deleted))

    def versions(self, subject: str, deleted: bool = False) -> list[int]:
        def read(state: RegistryState) -> list[int]:
            found = state.all_versions(subject) if deleted else state.live_versions(subject)
            if not found:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            return [v.version for v in found]
        return self.store.read(read)

    def _version(self, state: RegistryState, subject: str, version: str, deleted: bool = False) -> Version:
        wanted = parse_version(version)
        candidates = state.all_versions(subject) if deleted else state.live_versions(subject)
        if not state.all_versions(subject) or (not candidates and not deleted):
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        if wanted is None:
            if not candidates:
                raise VersionNotFoundError(f"Version latest not found for subject '{subject}'.")
            return candidates[-1]
        for v in candidates:
            if v.version == wanted:
                return v
        raise VersionNotFoundError(f"Version {wanted} not found.")

    def get_version(self, subject: str, version: str, deleted: bool = False) -> dict[str, Any]:
        return self.store.read(lambda s: self._describe(s, self._version(s, subject, version, deleted)))

    def _describe(self, state: RegistryState, v: Version) -> dict[str, Any]:
        stored = state.schemas[v.id]
        body: dict[str, Any] = {"subject": v.subject, "version": v.version, "id": v.id, "schema": stored.text}
        if stored.references:
            body["references"] = [r.to_json() for r in stored.references]
        return body

    def register(self, subject: str, body: dict[str, Any]) -> int:
        text, refs = self.parse_request(body)
        known = self.store.read(lambda state: self._registered_id(state, subject, text, refs))
        if known is not None:
            return known  # served from memory: an id, once given, never changes

        def attempt(state: RegistryState) -> tuple[Records, Callable[[], int]]:
            parsed = self._parse(state, text, refs)
            known_id = state.ids_by_identity.get(parsed.identity)
            if known_id is not None and any(v.id == known_id for v in state.live_versions(subject)):
                return [], lambda: known_id  # registered already: same id, no new version
            live = state.live_versions(subject)
            existing = [(v.version, self._parse(state, state.schemas[v.id].text, state.schemas[v.id].references)
                         .schema) for v in live]
            problems = incompatibilities(parsed.schema, existing, state.level(subject))
            if problems:
                raise IncompatibleSchemaError(
                    f"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", "
                    f"details: [{'; '.join(problems)}]", details=[{"field": "schema", "message": p}
                                                                   for p in problems])
            schema_id = state.ids_by_identity.get(parsed.identity) or state.next_id()
            version = state.next_version(subject)
            value: dict[str, Any] = {"subject": subject, "version": version, "id": schema_id, "schema": text,
                                     "deleted": False}
            if refs:
                value["references"] = [r.to_json() for r in refs]
            records: Records = [(schema_key(subject, version), json.dumps(value).encode())]

            def finish() -> int:
                got = state.subjects.get(subject, {}).get(version)
                if got is None or got.id != schema_id or got.deleted:
                    raise Lost
                return schema_id
            return records, finish

        return self.store.write(attempt)

    def _registered_id(self, state: RegistryState, subject: str, text: str,
                       refs: tuple[Reference, ...]) -> int | None:
        known_id = state.ids_by_identity.get(self._parse(state, text, refs).identity)
        if known_id is not None and any(v.id == known_id for v in state.live_versions(subject)):
            return known_id
        return None

    def lookup(self, subject: str, body: dict[str, Any], deleted: bool = False) -> dict[str, Any]:
        text, refs = self.parse_request(body)

        def read(state: RegistryState) -> dict[str, Any]:
            parsed = self._parse(state, text, refs)
            versions = state.all_versions(subject) if deleted else state.live_versions(subject)
            if not versions:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            schema_id = state.ids_by_identity.get(parsed.identity)
            for v in versions:
                if v.id == schema_id:
                    return self._describe(state, v)
            raise SchemaNotFoundError("Schema not found")
        return self.store.read(read)

    def delete_version(self, subject: str, version: str, permanent: bool = False) -> int:
        def attempt(state: RegistryState) -> tuple[Records, Callable[[], int]]:
            v = self._version(state, subject, version, deleted=permanent)
            if permanent and not v.deleted:
                raise VersionNotSoftDeletedError(
                    f"Subject '{subject}' Version {v.version} was not deleted first before being permanently "
                    "deleted")
            if permanent:
                return [(schema_key(subject, v.version), None)], lambda: v.version
            value = {"subject": subject, "version": v.version, "id": v.id, "schema": state.schemas[v.id].text,
                     "deleted": True}
            refs = state.schemas[v.id].references
            if refs:
                value["references"] = [r.to_json() for r in refs]
            return [(schema_key(subject, v.version), json.dumps(value).encode())], lambda: v.version
        return self.store.write(attempt)

    def delete_subject(self, subject: str, permanent: bool = False) -> list[int]:
        def attempt(state: RegistryState) -> tuple[Records, Callable[[], list[int]]]:
            every = state.all_versions(subject)
            live = state.live_versions(subject)
            if not every:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(
                        f"Subject '{subject}' was not deleted first before being permanently deleted")
                return [(schema_key(subject, v.version), None) for v in every], lambda: [v.version for v in every]
            if not live:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            records: Records = []
            for v in live:
                stored = state.schemas[v.id]
                value: dict[str, Any] = {"subject": subject, "version": v.version, "id": v.id,
                                         "schema": stored.text, "deleted": True}
                if stored.references:
                    value["references"] = [r.to_json() for r in stored.references]
                records.append((schema_key(subject, v.version), json.dumps(value).encode()))
            return records, lambda: [v.version for v in live]
        return self.store.write(attempt)

    # ---- schemas by id ----
    def schema_by_id(self, schema_id: int) -> dict[str, Any]:
        def read(state: RegistryState) -> dict[str, Any]:
            stored = state.schemas.get(schema_id)
            if stored is None:
                raise SchemaNotFoundError(f"Schema {schema_id} not found")
            body: dict[str, Any] = {"schema": stored.text}
            if stored.references:
                body["references"] = [r.to_json() for r in stored.references]
            return body
        return self.store.read(read)

    def versions_of_id(self, schema_id: int) -> list[dict[str, Any]]:
        def read(state: RegistryState) -> list[dict[str, Any]]:
            if schema_id not in state.schemas:
                raise SchemaNotFoundError(f"Schema {schema_id} not found")
            return [{"subject": v.subject, "version": v.version} for v in state.versions_of_id(schema_id)]
        return self.store.read(read)

    # ---- config and compatibility ----
    def get_config(self, subject: str | None, default_to_global: bool = False) -> Level:
        def read(state: RegistryState) -> Level:
            if subject is not None and subject not in state.subject_levels and not default_to_global:
                raise SubjectLevelConfigNotFoundError(f"Subject '{subject}' does not have subject-level "
                                                      "compatibility configured")
            return state.level(subject)
        return self.store.read(read)

    def set_config(self, subject: str | None, level_value: object) -> Level:
        level = parse_level(level_value)
        value = json.dumps({"compatibilityLevel": level.value}).encode()
        return self.store.write(lambda state: ([(config_key(subject), value)], lambda: level))

    def delete_config(self, subject: str) -> Level:
        def attempt(state: RegistryState) -> tuple[Records, Callable[[], Level]]:
            if subject not in state.subject_levels:
                raise SubjectLevelConfigNotFoundError(f"Subject '{subject}' does not have subject-level "
                                                      "compatibility configured")
            previous = state.subject_levels[subject]
            return [(config_key(subject), None)], lambda: previous
        return self.store.write(attempt)

    def check(self, subject: str, version: str, body: dict[str, Any]) -> list[str]:
        text, refs = self.parse_request(body)

        def read(state: RegistryState) -> list[str]:
            parsed = self._parse(state, text, refs)
            level = state.level(subject)
            if version in ("latest", "-1") and not state.live_versions(subject):
                if subject not in state.subjects:
                    raise SubjectNotFoundError(f"Subject '{subject}' not found.")
                return []
            target = self._version(state, subject, version)
            live = [v for v in state.live_versions(subject) if v.version <= target.version]
            if not level.value.endswith("_TRANSITIVE"):
                live = [target]
            existing = [(v.version, self._parse(state, state.schemas[v.id].text,
                                                state.schemas[v.id].references).schema) for v in live]
            return incompatibilities(parsed.schema, existing, level)
        return self.store.read(read)

"""The registry's state, rebuilt by applying the ``_schemas`` log in order (pure, no I/O).

Records use Confluent's own layout: key ``{"keytype": "SCHEMA", "subject", "version"}``
with value ``{"subject", "version", "id", "schema", "references", "deleted"}``
(null value: permanently deleted), and key ``{"keytype": "CONFIG", "subject"}``
with value ``{"compatibilityLevel"}``.

Conflicts resolve by log order, identically in every instance: a SCHEMA record
that would give an id to a second, different schema, or a second id to a
subject version, is ignored.  A writer that finds its record ignored retries
with fresh state (see ``KafkaStore.register``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streams.registry.compat import Level
from streams.registry.schema import Reference

__all__ = ["RegistryState", "StoredSchema", "Version", "config_key", "schema_key"]


@dataclass(frozen=True)
class StoredSchema:
    id: int
    text: str
    schema_type: str
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class Version:
    subject: str
    version: int
    id: int
    deleted: bool


def schema_key(subject: str, version: int) -> bytes:
    return json.dumps({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1},
                      separators=(",", ":")).encode()


def config_key(subject: str | None) -> bytes:
    return json.dumps({"keytype": "CONFIG", "subject": subject, "magic": 0}, separators=(",", ":")).encode()


Canonicalize = Callable[[str, tuple[Reference, ...], "RegistryState"], str]


@dataclass
class RegistryState:
    """``canonicalize`` gives a schema's identity form (it may resolve references in this state)."""

    canonicalize: Canonicalize
    schemas: dict[int, StoredSchema] = field(default_factory=dict)
    ids_by_identity: dict[tuple[str, tuple[Reference, ...]], int] = field(default_factory=dict)
    subjects: dict[str, dict[int, Version]] = field(default_factory=dict)
    global_level: Level = Level.BACKWARD
    subject_levels: dict[str, Level] = field(default_factory=dict)

    # ---- applying the log ----
    def apply(self, key: bytes | None, value: bytes | None) -> bool:
        """Apply one log record; False when it lost a conflict (or is not ours) and was ignored."""
        try:
            k: dict[str, Any] = json.loads(key or b"{}")
            v: dict[str, Any] | None = json.loads(value) if value else None
        except ValueError:
            return False
        if k.get("keytype") == "SCHEMA":
            return self._apply_schema(str(k["subject"]), int(k["version"]), v)
        if k.get("keytype") == "CONFIG":
            subject = k.get("subject")
            level = Level(v["compatibilityLevel"]) if v else None
            if subject is None:
                self.global_level = level or Level.BACKWARD
            elif level is None:
                self.subject_levels.pop(subject, None)
            else:
                self.subject_levels[subject] = level
            return True
        return False

    def _apply_schema(self, subject: str, version: int, v: dict[str, Any] | None) -> bool:
        versions = self.subjects.setdefault(subject, {})
        if v is None:  # permanent delete
            versions.pop(version, None)
            if not versions:
                del self.subjects[subject]
            return True
        schema_id = int(v["id"])
        refs = tuple(Reference(r["name"], r["subject"], int(r["version"])) for r in v.get("references") or [])
        stored = StoredSchema(schema_id, v["schema"], v.get("schemaType") or "AVRO", refs)
        try:
            identity = (self.canonicalize(stored.text, refs, self), refs)
        except Exception:  # noqa: BLE001 - a record we cannot parse is ignored, like a lost conflict
            return False
        owner = self.ids_by_identity.get(identity)
        if owner is not None and owner != schema_id:
            return False  # this schema already has another id
        if schema_id in self.schemas and owner is None:
            return False  # this id already belongs to another schema
        existing = versions.get(version)
        if existing is not None and existing.id != schema_id:
            return False
        self.schemas.setdefault(schema_id, stored)
        self.ids_by_identity.setdefault(identity, schema_id)
        versions[version] = Version(subject, version, schema_id, bool(v.get("deleted", False)))
        return True

    # ---- queries ----
    def live_versions(self, subject: str) -> list[Version]:
        return sorted((v for v in self.subjects.get(subject, {}).values() if not v.deleted), key=lambda v: v.version)

    def all_versions(self, subject: str) -> list[Version]:
        return sorted(self.subjects.get(subject, {}).values(), key=lambda v: v.version)

    def subject_names(self, *, deleted: bool = False) -> list[str]:
        return sorted(s for s in self.subjects if deleted or self.live_versions(s))

    def level(self, subject: str | None) -> Level:
        if subject is not None and subject in self.subject_levels:
            return self.subject_levels[subject]
        return self.global_level

    def next_id(self) -> int:
        return max(self.schemas, default=0) + 1

    def next_version(self, subject: str) -> int:
        return max(self.subjects.get(subject, {}), default=0) + 1

    def versions_of_id(self, schema_id: int) -> list[Version]:
        return sorted((v for versions in self.subjects.values() for v in versions.values()
                       if v.id == schema_id and not v.deleted), key=lambda v: (v.subject, v.version))

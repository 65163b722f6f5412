"""The dry run: what an import would create, update and leave alone, and every bad row.

`planner.make_plan` reads the database (a fixed number of batched queries, whatever the file's
size) and writes nothing. The plan it returns lists one item per row that is fine and
one problem per bad cell; `Plan.digest` fingerprints exactly what the editor was shown,
so a confirmation is refused when the plan made again at that moment differs. Applying
it (`tracker.exchange.apply`) goes through the editing services, record by record.

Privacy: a row that matches a record the importer may not edit gets a problem that
names no data of that record, so a hidden defendant stays hidden from the editors who
may not see it.

This module is what a plan is; planner.py makes one, with a part per kind of row
(plan_records.py, plan_custody.py, plan_hearings.py, plan_actions.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from tracker.exchange.reading import Problem, Row
from tracker.records import wallclock
from tracker.records.models import Case, Court, Defendant

# The order in which an import applies its changes: what a row refers to exists first.
STEP_CASES, STEP_COURTS, STEP_DEFENDANTS, STEP_PLACEMENTS, STEP_MEASURES, STEP_DECISIONS, STEP_STATUS, \
    STEP_HEARINGS, STEP_ACTIONS = range(9)
CHUNK = 500  # ids per IN (...) list


@dataclass
class Item:
    """One row that can be imported, as the dry run shows it."""

    table: str
    source: str
    row: int
    action: str  # "create", "update", "extend" or "unchanged"
    label: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)


@dataclass
class Step:
    order: tuple
    run: Callable[[Any], None]  # called with the Applier
    item: Item | None


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> int:
        return sum(1 for i in self.items if i.action != "unchanged")

    def counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for item in self.items:
            per_table = result.setdefault(item.table, {"create": 0, "update": 0, "unchanged": 0})
            per_table["update" if item.action == "extend" else item.action] += 1
        return result

    @property
    def digest(self) -> str:
        """A fingerprint of everything the dry run shows: the same digest means the same dry run."""
        shown = {
            "items": [[i.table, i.source, i.row, i.action, i.label, i.changes] for i in self.items],
            "problems": [[p.source, p.row, p.column, p.message] for p in self.problems],
            "notes": self.notes,
        }
        return hashlib.sha256(json.dumps(shown, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def ordered_steps(self) -> list[Step]:
        return sorted(self.steps, key=lambda s: s.order)


@dataclass(eq=False)
class DefendantHandle:
    """A defendant an import refers to: already in the tracker, or created by a row of the file."""

    slug: str
    existing: Defendant | None = None
    row: Row | None = None
    source: str = ""
    bad: bool = False  # its row has problems: rows referring to it report that
    editable: bool = True
    created: Defendant | None = None

    @property
    def record(self) -> Defendant:
        found = self.existing or self.created
        assert found is not None, f"defendant {self.slug} used before it was created"
        return found


@dataclass
class CaseHandle:
    slug: str
    existing: Case | None = None
    created: Case | None = None

    @property
    def record(self) -> Case:
        found = self.existing or self.created
        assert found is not None
        return found


@dataclass
class CourtHandle:
    name: str
    timezone: str
    address: str = ""
    name_original: str = ""
    address_original: str = ""
    existing: Court | None = None
    created: Court | None = None
    planned: bool = False  # its creation is already an item of the plan

    @property
    def record(self) -> Court:
        found = self.existing or self.created
        assert found is not None
        return found


def shown(value: Any) -> str:
    """A value as the dry run shows it (and as the export writes it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "value") and not isinstance(value, (int, float)):
        return str(value.value)
    if isinstance(value, datetime):  # a local time with its offset when it has one: the autumn hour is two
        text = value.strftime("%Y-%m-%d %H:%M")
        return f"{text} {wallclock.format_offset(value.utcoffset())}" if value.tzinfo is not None else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def local_shown(instant: datetime, zone: ZoneInfo) -> str:
    """A stored time as the dry run's "before": the place's wall time, with its offset only when
    that wall time happens twice (the export always writes the offset)."""
    local = instant.astimezone(zone)
    return shown(local if wallclock.is_repeated(local, zone) else local.replace(tzinfo=None))


def chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]

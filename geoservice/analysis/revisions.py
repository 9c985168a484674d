"""What changed between two versions of a plan: elements, targets and incentives added, removed
and changed, field by field.

Versions come from two data directories, two git revisions of one, or one catalog where a plan
records that it `supersedes` another (an issued plan replacing its draft for comment). Records
are matched by id without the plan prefix (the draft's `…-draft.core-park` is the issued plan's
`….core-park`); targets, which have no id, by metric (and order among equal metrics).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoservice.plans import PlanFile, parse_plan_file

SECTIONS = ("features", "targets", "incentives")


class RevisionError(ValueError):
    """A version that cannot be read (no such directory, git revision or plan)."""


@dataclass(frozen=True)
class FieldChange:
    """One field of one record that differs."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RecordChange:
    """A record added, removed or changed (then with its field changes)."""

    section: str  # features | targets | incentives
    change: str  # added | removed | changed
    key: str
    name: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class PlanChanges:
    """Every change from one version of a plan to another."""

    old_id: str
    new_id: str
    header: tuple[FieldChange, ...] = ()
    records: tuple[RecordChange, ...] = field(default_factory=tuple)

    def count(self, section: str, change: str) -> int:
        """Return how many records of a section were added, removed or changed."""
        return sum(r.section == section and r.change == change for r in self.records)

    def as_dict(self) -> dict:
        """Return the changes as JSON-ready data."""
        return {
            "old": self.old_id,
            "new": self.new_id,
            "summary": {
                s: {c: self.count(s, c) for c in ("added", "removed", "changed")} for s in SECTIONS
            },
            "header": [vars(f) for f in self.header],
            "changes": [
                {
                    "section": r.section,
                    "change": r.change,
                    "key": r.key,
                    "name": r.name,
                    "fields": [vars(f) for f in r.fields],
                }
                for r in self.records
            ],
        }


def _flat(record: dict, prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to dotted field names (location.precision, source.quote)."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flat(value, f"{name}.")
        else:
            out[name] = value
    return out


def _field_changes(old: dict, new: dict, plan_ids: tuple[str, str]) -> tuple[FieldChange, ...]:
    """Compare two records field by field (ids compared without their plan prefix)."""
    a, b = _flat(_local(old, plan_ids[0])), _flat(_local(new, plan_ids[1]))
    return tuple(
        FieldChange(k, a.get(k), b.get(k)) for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)
    )


def _local(value: Any, plan_id: str) -> Any:
    """Strip a plan's id prefix from ids inside a record, so a renamed plan's records compare."""
    if isinstance(value, str) and value.startswith(plan_id + "."):
        return value[len(plan_id) + 1 :]
    if isinstance(value, list):
        return [_local(v, plan_id) for v in value]
    if isinstance(value, dict):
        return {k: _local(v, plan_id) for k, v in value.items()}
    return value


def _keyed(plan: PlanFile, section: str) -> dict[str, tuple[str, dict]]:
    """Return a section's records by matching key, with a display name."""
    pid = plan.plan.id
    if section == "targets":
        out, seen = {}, {}
        for t in plan.targets:
            seen[t.metric] = seen.get(t.metric, 0) + 1
            key = t.metric if seen[t.metric] == 1 else f"{t.metric} #{seen[t.metric]}"
            out[key] = (t.metric_zh or t.metric, t.model_dump(mode="json", by_alias=True))
        return out
    records = plan.features if section == "features" else plan.incentives
    return {
        _local(r.id, pid): (
            getattr(r, "name_zh", None) or getattr(r, "title_zh", ""),
            r.model_dump(mode="json", by_alias=True),
        )
        for r in records
    }


def diff_plans(old: PlanFile, new: PlanFile) -> PlanChanges:
    """Compare two versions of a plan."""
    ids = (old.plan.id, new.plan.id)
    skip = {"id", "status", "supersedes"}
    header = tuple(
        c
        for c in _field_changes(
            old.plan.model_dump(mode="json"), new.plan.model_dump(mode="json"), ids
        )
        if c.field not in skip
    )
    records = []
    for section in SECTIONS:
        a, b = _keyed(old, section), _keyed(new, section)
        records += [RecordChange(section, "removed", k, a[k][0]) for k in a if k not in b]
        records += [RecordChange(section, "added", k, b[k][0]) for k in b if k not in a]
        for k in a.keys() & b.keys():
            fields = _field_changes(a[k][1], b[k][1], ids)
            if fields:
                records.append(RecordChange(section, "changed", k, b[k][0], fields))
    order = {"removed": 0, "added": 1, "changed": 2}
    records.sort(key=lambda r: (SECTIONS.index(r.section), order[r.change], r.key))
    return PlanChanges(old.plan.id, new.plan.id, header, tuple(records))


def read_plans(data_dir: Path) -> dict[str, PlanFile]:
    """Parse every plan file of a data directory (a broken file stops the comparison)."""
    plans = {}
    for path in sorted((data_dir / "plans").glob("*.yaml")):
        plan, problems = parse_plan_file(path, f"{data_dir.name}/plans/{path.name}")
        if problems:
            raise RevisionError(f"{problems[0]}")
        plans[plan.plan.id] = plan
    return plans


def diff_versions(old: dict[str, PlanFile], new: dict[str, PlanFile]) -> list[PlanChanges]:
    """Compare two sets of plans: each plan with its namesake, or with the plan it supersedes."""
    out = []
    for pid, plan in new.items():
        before = old.get(plan.plan.supersedes or "") or old.get(pid)
        if before is not None:
            out.append(diff_plans(before, plan))
    return out


def superseded_changes(plans: dict[str, PlanFile], plan_id: str) -> PlanChanges:
    """Return what a plan changed from the plan it supersedes (both in one catalog)."""
    plan = plans[plan_id]
    earlier = plan.plan.supersedes
    if not earlier:
        raise RevisionError(f"plan {plan_id!r} records no earlier version (supersedes)")
    if earlier not in plans:
        raise RevisionError(f"plan {plan_id!r} supersedes {earlier!r}, which is not in the data")
    return diff_plans(plans[earlier], plan)


def plans_at(spec: str, data_dir: Path) -> dict[str, PlanFile]:
    """Read the plans of a version: a data directory, or a git revision of the repository
    holding `data_dir`."""
    path = Path(spec)
    if path.is_dir():
        return read_plans(path)
    try:
        root = Path(_git(data_dir, "rev-parse", "--show-toplevel").strip())
        rel = data_dir.resolve().relative_to(root.resolve()).as_posix()
        names = _git(root, "ls-tree", "--name-only", f"{spec}:{rel}/plans").split()
    except (subprocess.CalledProcessError, ValueError, OSError) as exc:
        raise RevisionError(
            f"{spec!r} is neither a data directory nor a git revision of {data_dir}: {exc}"
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        plans_dir = Path(tmp) / spec.replace("/", "_") / "plans"
        plans_dir.mkdir(parents=True)
        for name in names:
            if name.endswith(".yaml"):
                (plans_dir / name).write_bytes(
                    _git(root, "show", f"{spec}:{rel}/plans/{name}", raw=True)
                )
        return read_plans(plans_dir.parent)


def _git(cwd: Path, *args: str, raw: bool = False):
    """Run git read-only in a repository; return its output."""
    result = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, check=True, timeout=60
    )
    return result.stdout if raw else result.stdout.decode("utf-8")

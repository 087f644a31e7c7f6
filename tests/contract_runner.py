"""Run a contract scenario (tests/contract/*.json) against any Python `Store`.

The format is tests/contract/README.md's. The runner knows nothing about a particular backend:
it maps each Convex function to its Store method (`CONTRACT_FUNCTIONS`), turns the camelCase
arguments into the method's keyword arguments (`paginationOpts` -> `numItems`/`cursor`), turns
results into JSON-like dicts (`_id` from the model's `id`) and checks them with the matchers.
A step expecting an error must raise `JangarError` with that code and change nothing visible.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from jangar_tui.models import PAGE_SIZE_MAX, JangarError, WorkOrderStatus
from jangar_tui.store.base import CONTRACT_FUNCTIONS, Store

CONTRACT_DIR = Path(__file__).parent / "contract"
_MISSING = object()
_OPERATORS = frozenset({"$type", "$absent", "$gte", "$gt", "$lte", "$lt", "$ne", "$len", "$any"})
_NUMBER = (int, float)


def load_scenarios(directory: Path = CONTRACT_DIR) -> list[tuple[str, dict[str, Any]]]:
    """Every scenario file, sorted, as (file stem, parsed JSON)."""
    return [(path.stem, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(directory.glob("*.json"))]


class ScenarioFailure(AssertionError):
    pass


async def run_scenario(store: Store, scenario: dict[str, Any]) -> None:
    """Execute every step of `scenario` on `store` (which must start empty); raise on the first mismatch."""
    await _Run(store, scenario).run()


class _Run:
    def __init__(self, store: Store, scenario: dict[str, Any]) -> None:
        self.store = store
        self.scenario = scenario
        self.name = scenario.get("name", "<unnamed scenario>")
        self.saved: dict[str, Any] = {}
        # What a snapshot looks at: every user and session the scenario has touched.
        self.users: set[str] = set()
        self.sessions: set[str] = set()
        self.work_orders: set[str] = set()

    def fail(self, index: int, step: dict[str, Any], iteration: int | None, message: str) -> ScenarioFailure:
        where = f"step {index} ({step.get('call')})"
        if iteration is not None:
            where += f", iteration {iteration}"
        return ScenarioFailure(f"[{self.name}] {where}: {message}")

    async def run(self) -> None:
        steps = self.scenario.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ScenarioFailure(f"[{self.name}] has no steps")
        for index, step in enumerate(steps):
            repeat = step.get("repeat")
            iterations = range(repeat) if repeat is not None else [None]
            for iteration in iterations:
                result = await self.run_step(index, step, iteration)
                if "save" in step:
                    self.saved[step["save"]] = result

    async def run_step(self, index: int, step: dict[str, Any], iteration: int | None) -> Any:
        call = step.get("call")
        if call not in CONTRACT_FUNCTIONS:
            raise self.fail(index, step, iteration, f"unknown function {call!r}")
        expect = step.get("expect")
        if not isinstance(expect, dict) or len(expect) != 1 or not ({"ok", "error"} & expect.keys()):
            raise self.fail(
                index, step, iteration, f"expect must be {{'ok': ...}} or {{'error': CODE}}, got {expect!r}"
            )
        try:
            raw_args = step.get("args", {})
            if iteration is not None:
                raw_args = _substitute_iteration(raw_args, iteration)
            args = self.resolve(raw_args)
            expected = self.resolve(expect)
        except KeyError as exc:
            raise self.fail(index, step, iteration, f"unresolved reference {exc.args[0]}") from None

        method_name = CONTRACT_FUNCTIONS[call]
        method = getattr(self.store, method_name)
        kwargs, unknown = _keyword_arguments(method, args)
        if "ok" in expected:
            if unknown:
                raise self.fail(index, step, iteration, f"{method_name} has no parameter for {sorted(unknown)}")
            try:
                result = to_json(await method(**kwargs))
            except JangarError as exc:
                raise self.fail(
                    index, step, iteration, f"expected a result, got {exc.code.value}: {exc.message}"
                ) from None
            mismatch = match(expected["ok"], result, "result")
            if mismatch is not None:
                raise self.fail(index, step, iteration, f"{mismatch}\n  full result: {json.dumps(result)[:2000]}")
            self.track(call, args, result)
            return result

        code = expected["error"]
        if unknown:
            # The Python signature refuses an argument Convex's validator would refuse: that is
            # the INVALID_ARGUMENT of this client, and nothing was called, so nothing changed.
            if code != "INVALID_ARGUMENT":
                raise self.fail(
                    index, step, iteration, f"arguments {sorted(unknown)} cannot be passed; expected {code}"
                )
            return None
        before = await self.snapshot()
        try:
            result = await method(**kwargs)
        except JangarError as exc:
            if exc.code.value != code:
                raise self.fail(
                    index, step, iteration, f"expected error {code}, got {exc.code.value}: {exc.message}"
                ) from None
        else:
            raise self.fail(
                index, step, iteration, f"expected error {code}, got a result: {json.dumps(to_json(result))[:2000]}"
            )
        after = await self.snapshot()
        if after != before:
            raise self.fail(
                index, step, iteration, f"a refused call changed visible data: {_first_difference(before, after)}"
            )
        return None

    def track(self, call: str, args: dict[str, Any], result: Any) -> None:
        if isinstance(args.get("userId"), str):
            self.users.add(args["userId"])
        if call == "chatSessions:create" and isinstance(result, dict):
            self.sessions.add(result["_id"])
        if call == "workOrders:create" and isinstance(result, dict):
            self.work_orders.add(result["_id"])

    async def snapshot(self) -> dict[str, Any]:
        """Everything the touched users and sessions can see, through the contract's own reads."""
        view: dict[str, Any] = {}
        for user in sorted(self.users):
            view[f"sessions:{user}"] = to_json(await self.store.list_sessions(user, PAGE_SIZE_MAX, None))
        for session in sorted(self.sessions):
            view[f"session:{session}"] = to_json(await self.store.get_session(session))
            view[f"messages:{session}"] = to_json(await self.store.list_messages(session, PAGE_SIZE_MAX, None))
            view[f"workOrders:{session}"] = to_json(
                await self.store.list_work_orders_by_session(session, PAGE_SIZE_MAX, None)
            )
        for work_order in sorted(self.work_orders):
            view[f"events:{work_order}"] = to_json(
                await self.store.list_work_order_events(work_order, PAGE_SIZE_MAX, None)
            )
        if self.sessions:
            for status in WorkOrderStatus:
                view[f"status:{status.value}"] = to_json(
                    await self.store.list_work_orders_by_status(status, PAGE_SIZE_MAX, None)
                )
        return view

    # -- references ------------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("$$"):
                return value[1:]
            if value.startswith("$"):
                return self.lookup(value[1:])
            return value
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def lookup(self, reference: str) -> Any:
        name, *path = reference.split(".")
        if name not in self.saved:
            raise KeyError(f"${reference} (nothing saved as {name!r})")
        value = self.saved[name]
        for part in path:
            if isinstance(value, list) and re.fullmatch(r"\d+", part) and int(part) < len(value):
                value = value[int(part)]
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                raise KeyError(f"${reference} (no {part!r} in {json.dumps(value)[:200]})")
        return value


def _substitute_iteration(value: Any, iteration: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(iteration))
    if isinstance(value, list):
        return [_substitute_iteration(item, iteration) for item in value]
    if isinstance(value, dict):
        return {key: _substitute_iteration(item, iteration) for key, item in value.items()}
    return value


def _keyword_arguments(method: Any, args: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Contract arguments -> the method's keywords; returns (kwargs, names it has no parameter for)."""
    args = dict(args)
    if "paginationOpts" in args:
        opts = args.pop("paginationOpts")
        if isinstance(opts, dict):
            args["numItems"] = opts.get("numItems")
            args["cursor"] = opts.get("cursor")
            unknown_opts = set(opts) - {"numItems", "cursor"}
            if unknown_opts:
                return {}, {f"paginationOpts.{key}" for key in unknown_opts}
        else:
            args["numItems"] = opts  # not an object: let the store refuse it
    parameters = inspect.signature(method).parameters
    unknown = set(args) - set(parameters)
    kwargs = {key: value for key, value in args.items() if key in parameters}
    for name, parameter in parameters.items():
        # An argument the scenario leaves out is absent; Python's absent is None.
        if name not in kwargs and parameter.default is inspect.Parameter.empty:
            kwargs[name] = None
    return kwargs, unknown


def to_json(value: Any) -> Any:
    """A store result as Convex would return it: plain JSON, `_id` for ids, enums as strings."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


# -- matchers ------------------------------------------------------------------------------------


def match(expected: Any, actual: Any, path: str) -> str | None:
    """None when `actual` matches `expected`, else a sentence naming the path and the mismatch."""
    if isinstance(expected, dict) and expected and set(expected) <= _OPERATORS:
        return _match_operators(expected, actual, path)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {_show(actual)}"
        for key, sub in expected.items():
            value = actual.get(key, _MISSING)
            if value is _MISSING and not (isinstance(sub, dict) and (sub.get("$absent") or sub.get("$any"))):
                if sub is None:
                    continue  # Convex omits what Python reports as null
                return f"{path}.{key}: missing (expected {_show(sub)})"
            mismatch = match(sub, value, f"{path}.{key}")
            if mismatch is not None:
                return mismatch
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected an array, got {_show(actual)}"
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {len(actual)}: {_show(actual)}"
        for index, (sub, value) in enumerate(zip(expected, actual, strict=True)):
            mismatch = match(sub, value, f"{path}.{index}")
            if mismatch is not None:
                return mismatch
        return None
    if not _equal(expected, None if actual is _MISSING else actual):
        return f"{path}: expected {_show(expected)}, got {_show(actual)}"
    return None


def _match_operators(expected: dict[str, Any], actual: Any, path: str) -> str | None:
    present = actual is not _MISSING
    for op, operand in expected.items():
        if op == "$any":
            continue
        if op == "$absent":
            is_absent = not present or actual is None
            if bool(operand) != is_absent:
                return f"{path}: expected {'absent' if operand else 'present'}, got {_show(actual)}"
            continue
        if not present:
            return f"{path}: missing (expected {op} {_show(operand)})"
        if op == "$type":
            if _type_name(actual) != operand:
                return f"{path}: expected type {operand}, got {_type_name(actual)} {_show(actual)}"
        elif op == "$len":
            if not isinstance(actual, list | str) or len(actual) != operand:
                size = len(actual) if isinstance(actual, list | str) else "no length"
                return f"{path}: expected length {operand}, got {size}"
        elif op == "$ne":
            if _equal(operand, actual):
                return f"{path}: expected anything but {_show(operand)}"
        else:
            if not _is_number(actual) or not _is_number(operand):
                return f"{path}: {op} needs numbers, got {_show(actual)} vs {_show(operand)}"
            ok = {
                "$gte": actual >= operand,
                "$gt": actual > operand,
                "$lte": actual <= operand,
                "$lt": actual < operand,
            }[op]
            if not ok:
                return f"{path}: expected {op} {operand}, got {actual}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)  # 3 == 3.0: Convex returns floats
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any) -> str:
    if value is _MISSING:
        return "<missing>"
    text = json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "..."


def _first_difference(before: dict[str, Any], after: dict[str, Any]) -> str:
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            return f"{key}: before {_show(before.get(key))}, after {_show(after.get(key))}"
    return "(no difference found)"

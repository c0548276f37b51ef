"""The 18 seed examples, called on our client exactly as the seed writes them, produce the golden wire
requests the official SDK 1.14.0 sent (minus its injected defaults; numbers by value)."""
from __future__ import annotations

from typing import Any

import pytest
from _wire_compare import GOLDEN, SHARED_GOLDEN, awaiting, load_golden, same_json, without_sdk_defaults

CASES = load_golden()
KEY = "test-key"


def _setup_case(index: int) -> dict[str, Any] | None:
    """The earlier case that creates what this one acts on: the stream it ends, or the `start`
    whose `activity_id` it uses."""
    source = CASES[index]["source"]
    if CASES[index]["method"] == "DELETE":
        return next(c for c in reversed(CASES[:index]) if (c["method"], c["path"]) == ("PUT", CASES[index]["path"]))
    if "activity_id" not in source or "activity_id = start.activity_id" in source:
        return None
    return next(c for c in reversed(CASES[:index]) if "activity_id = start.activity_id" in c["source"])


def _check(case: dict[str, Any], sim, namespace: dict[str, Any], before: int) -> None:
    assert len(sim.requests) == before + 1, "exactly one request per seed call"
    got = sim.requests[-1]
    assert (got.method, got.path) == (case["method"], case["path"])
    expected = dict(case["json"])
    if "activity_id" in expected:  # the recorder's ids differ from the simulator's: use ours
        assert namespace.get("activity_id"), "the preceding start must have returned an activity_id"
        expected["activity_id"] = namespace["activity_id"]
    legacy_end = case["path"] == "/live-activity/end"
    assert same_json(without_sdk_defaults(got.json, legacy_end=legacy_end),
                     without_sdk_defaults(expected, legacy_end=legacy_end)), (got.json, expected)
    assert got.headers["authorization"] == case["headers"]["Authorization"]
    assert got.headers["content-type"] == case["headers"]["Content-Type"]
    assert got.headers["accept"] == case["headers"]["Accept"]
    assert got.headers["user-agent"].startswith("activitysmith-jupyter/")


@pytest.fixture
def keyed_client(sim):
    from activitysmith_jupyter.api.client import ActivitySmith

    with ActivitySmith(KEY, transport=sim.transport()) as c:
        yield c


@pytest.fixture
async def keyed_aclient(sim):
    from activitysmith_jupyter.api.client import AsyncActivitySmith

    async with AsyncActivitySmith(KEY, transport=sim.transport()) as c:
        yield c


def test_golden_file_has_the_18_seed_cases() -> None:
    assert len(CASES) == 18
    assert len({c["name"] for c in CASES}) == 18


@pytest.mark.skipif(not SHARED_GOLDEN.exists(), reason="the shared docs are not on this machine")
def test_repo_copy_of_the_golden_file_is_current() -> None:
    assert GOLDEN.read_bytes() == SHARED_GOLDEN.read_bytes()


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_seed_call_sends_the_golden_request(index: int, keyed_client, sim) -> None:
    namespace: dict[str, Any] = {"activitysmith": keyed_client}
    setup = _setup_case(index)
    if setup is not None:
        exec(setup["source"], namespace)
    before = len(sim.requests)
    exec(CASES[index]["source"], namespace)
    _check(CASES[index], sim, namespace, before)


@pytest.mark.anyio
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["name"] for c in CASES])
async def test_seed_call_sends_the_golden_request_async(index: int, keyed_aclient, sim) -> None:
    namespace: dict[str, Any] = {"activitysmith": keyed_aclient}
    setup = _setup_case(index)
    if setup is not None:
        await eval(awaiting(setup["source"]), namespace)
    before = len(sim.requests)
    await eval(awaiting(CASES[index]["source"]), namespace)
    _check(CASES[index], sim, namespace, before)

"""Settings resolution (a pure function) and what a client is pointed at."""
from __future__ import annotations

import pytest
from _client_twins import KEY, api, call, close, make_client  # noqa: F401  (api is a fixture)

from activitysmith_jupyter.api.settings import DEFAULT_BASE_URL, SIMULATOR_BASE_URL, resolve_settings
from activitysmith_jupyter.clock import SYSTEM_CLOCK

ENV = {"ACTIVITYSMITH_API_KEY": "env-key", "ACTIVITYSMITH_BASE_URL": "https://env.example/api/"}


@pytest.mark.parametrize(
    ("arg", "env", "expected"),
    [("arg-key", ENV, "arg-key"), (None, ENV, "env-key"), (None, {}, None),
     (None, {"ACTIVITYSMITH_API_KEY": ""}, None)],
    ids=["argument-wins", "environment", "none", "empty-environment-is-none"],
)
def test_api_key_precedence(arg, env, expected) -> None:
    assert resolve_settings(arg, env=env).api_key == expected


@pytest.mark.parametrize(
    ("arg", "env", "expected"),
    [("http://127.0.0.1:9/api/", ENV, "http://127.0.0.1:9/api"), (None, ENV, "https://env.example/api"),
     (None, {"ACTIVITYSMITH_API_KEY": "k"}, DEFAULT_BASE_URL)],
    ids=["argument-wins", "environment", "default"],
)
def test_base_url_precedence_and_trailing_slash(arg, env, expected) -> None:
    assert resolve_settings(None, arg, env=env).base_url == expected


def test_no_key_and_no_base_url_means_the_embedded_simulator() -> None:
    settings = resolve_settings(env={})
    assert settings.embedded
    assert settings.base_url == SIMULATOR_BASE_URL


@pytest.mark.parametrize(
    ("kwargs", "env"),
    [({"api_key": "k"}, {}), ({}, {"ACTIVITYSMITH_API_KEY": "k"}), ({"base_url": "http://127.0.0.1:1"}, {}),
     ({"has_transport": True}, {})],
    ids=["key-argument", "key-environment", "explicit-base-url", "transport"],
)
def test_anything_explicit_turns_the_embedded_simulator_off(kwargs, env) -> None:
    assert not resolve_settings(env=env, **kwargs).embedded


def test_empty_api_key_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        resolve_settings("", env={})


def test_settings_repr_masks_the_key() -> None:
    assert KEY not in repr(resolve_settings(KEY, env={}))


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_client_without_key_uses_the_shared_embedded_simulator(kind) -> None:
    from activitysmith_jupyter.simulator import shared_simulator

    c = make_client(kind)
    try:
        assert c.mode == "simulator"
        assert c.simulator is shared_simulator()
        assert c.base_url == SIMULATOR_BASE_URL
        before = len(c.simulator.requests)
        assert (await call(c.notifications.send(title="embedded"))).success
        assert len(c.simulator.requests) == before + 1
    finally:
        await close(c)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_client_with_env_key_is_live_on_the_default_url(kind, monkeypatch) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", KEY)
    c = make_client(kind)
    try:
        assert (c.mode, c.base_url, c.simulator) == ("live", DEFAULT_BASE_URL, None)
        assert c._clock is SYSTEM_CLOCK
    finally:
        await close(c)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_client_with_env_base_url(kind, monkeypatch) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_BASE_URL", "http://127.0.0.1:8765/api")
    c = make_client(kind, "k")
    try:
        assert c.base_url == "http://127.0.0.1:8765/api"
    finally:
        await close(c)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_client_on_a_simulator_transport_reports_that_simulator_and_its_clock(kind, sim, clock) -> None:
    c = make_client(kind, transport=sim.transport())
    try:
        assert c.simulator is sim
        assert c.mode == "simulator"
        assert c.base_url == SIMULATOR_BASE_URL  # not the real API's URL: nothing goes there
        assert c._clock is clock
    finally:
        await close(c)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_empty_api_key_is_a_value_error(kind) -> None:
    with pytest.raises(ValueError):
        make_client(kind, "")


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_max_retries_must_be_a_non_negative_int(kind, value) -> None:
    with pytest.raises(ValueError):
        make_client(kind, "k", max_retries=value)


def test_default_timeout_is_ten_seconds(client) -> None:
    assert client._http.timeout.read == 10.0


def test_default_client_is_one_lazily_created_process_wide_client() -> None:
    from activitysmith_jupyter.api.client import ActivitySmith, default_client, set_default_client

    old = set_default_client(None)
    try:
        first = default_client()
        assert isinstance(first, ActivitySmith)
        assert default_client() is first
        mine = ActivitySmith("k", base_url="http://127.0.0.1:9")
        assert set_default_client(mine) is first
        assert default_client() is mine
    finally:
        set_default_client(old)


def test_set_default_client_refuses_an_async_client() -> None:
    from activitysmith_jupyter.api.client import AsyncActivitySmith, set_default_client

    with pytest.raises(TypeError):
        set_default_client(AsyncActivitySmith("k"))


def test_package_exports_the_client_lazily() -> None:
    import activitysmith_jupyter
    from activitysmith_jupyter.api import client

    assert activitysmith_jupyter.ActivitySmith is client.ActivitySmith
    assert activitysmith_jupyter.AsyncActivitySmith is client.AsyncActivitySmith
    assert activitysmith_jupyter.default_client is client.default_client


@pytest.mark.anyio
async def test_with_options_gives_a_view_with_other_retries_sharing_connections(api, sim) -> None:  # noqa: F811
    from activitysmith_jupyter.errors import ServerError

    view = api.with_options(max_retries=0, timeout=3.0)
    assert (view.max_retries, api.max_retries) == (0, 2)
    assert view._http is api._http
    assert view._extensions["timeout"]["read"] == 3.0
    assert view.notifications._client is view
    sim.inject(503, times=1, path="/badge")
    with pytest.raises(ServerError):
        await call(view.badge_count(1))
    assert (await call(api.badge_count(1))).success  # the original still retries
    assert len(sim.requests) == 2


def test_every_lazy_package_name_resolves_and_is_declared_for_type_checkers() -> None:
    import ast
    import inspect

    import activitysmith_jupyter as pkg

    tree = ast.parse(inspect.getsource(pkg))
    [block] = [node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"]
    checked = {alias.name for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert checked == set(pkg._LAZY)
    for name in pkg._LAZY:
        assert getattr(pkg, name) is not None, name

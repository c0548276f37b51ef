"""The embedded ActivitySmith: a faithful in-process model of the API and of the phone it drives.

    sim = Simulator()                      # any non-empty Bearer key is accepted
    httpx.Client(transport=sim.transport(), base_url="https://activitysmith.com/api")
    with sim.serve() as server: ...        # real HTTP on 127.0.0.1, server.url
    print(sim.timeline())                  # what the phone showed

Modules: state (the Simulator: faults, auth, routing, validation, budgets, request log), phone (what
each endpoint does to the simulated phone), routes (paths -> endpoints), validation (payloads.validate's
problems as the API's 400 text), limits (sliding windows), faults, records, timeline, and the adapters:
transport (httpx, sync and async: `Simulator.transport()`; not re-exported here, as it imports httpx),
server (stdlib ThreadingHTTPServer) and page (GET / and GET /_sim/state, no key needed). The adapters depend on backend's Protocols (`SimulatorBackend`:
`handle`, `clock`, `snapshot`), never on `Simulator`; `Simulator.handle` answers API requests only.
__main__ is the CLI.

Where the API documentation is silent, the simulator chooses (and tests) this:
* GET / and GET /_sim/state (with or without /api) are the page's: no key, not recorded, no budget.
* Order of checks for API requests: fault -> 401 -> 404 route -> 400 JSON -> 400 validation -> 429 budget -> handler.
  Only valid requests spend the budget; 429 answers do not.
* Budgets: push, replace, stream PUT/DELETE and legacy start/update/end share 60/min per account
  (sliding 60 s window); metrics have their own 300/min; badge has none. A 429 carries
  `Retry-After: <whole seconds>` (the real API documents no such header) and
  {"error": "rate_limited", "code": "rate_limited", "message"}.
* More than `max_active_activities` (4) active: 429 {"error": "live_activity_limit", "limit", "active",
  "message"} for stream starts and legacy start alike (the real start may end an older one instead).
* Stream PUT: updates merge into the current content_state (omitted fields, `type`, action,
  secondary_action, tags and metadata are kept); an identical state is `noop`; `type` or target
  channels changing, or an activity older than 8 h, `rotated` (the old one is dismissed at once);
  a paused stream answers `paused` with `ignored: true`.
* Stream DELETE: unknown key -> 404; a key whose activity already ended -> 200 `ended` with
  `ignored: true`. Legacy update of an unknown id -> 404, of an ended one -> 409 "activity_ended";
  legacy end of an ended one -> 200 `ignored: true`.
* Ended activities stay on `lock_screen()` until auto-dismiss: seconds win over minutes; default
  2 min for stream DELETE (docs) and 3 min for legacy end (model default).
* Faults: `refuse` never reaches the simulator (not recorded); `drop`, `delay` and `malformed` are
  processed (state changes, recorded) and only the answer is lost, late or garbled; an injected
  `status` replaces the handling (recorded, no state change).
* One simulated device and user: devices_notified = users_notified = 1; effective_channel_slugs is
  the target's channels or []. Ids are "act_"/"ntf_" + 16 hex digits, deterministic per simulator.
"""
from __future__ import annotations

from .backend import SimulatorBackend
from .faults import Fault
from .records import ActivityRecord, Event, RecordedRequest, SimResponse
from .server import SimulatorServer
from .state import Simulator, shared_simulator

__all__ = [
    "Simulator", "SimulatorBackend", "SimulatorServer", "shared_simulator",
    "RecordedRequest", "Event", "ActivityRecord", "SimResponse", "Fault",
]


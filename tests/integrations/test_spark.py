"""PySpark on the Lock Screen, against a real local Spark (``local[2]``, one JVM for the module) and a real
Spark Connect server (the Connect plugin of that same JVM, on a loopback port)."""
from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from process_helpers import free_port

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - scripts/test installs a JRE
    pytest.skip("no java: Spark needs a JRE", allow_module_level=True)

from activitysmith_jupyter import activity, current_activity  # noqa: E402
from activitysmith_jupyter.delivery.dispatcher import dispatcher_for  # noqa: E402
from activitysmith_jupyter.hub.activity import Activity  # noqa: E402
from activitysmith_jupyter.hub.outcome import Snapshot  # noqa: E402
from activitysmith_jupyter.integrations import spark as spark_integration  # noqa: E402
from activitysmith_jupyter.integrations._spark_jobs import ClassicJobs  # noqa: E402
from activitysmith_jupyter.integrations.spark import SparkSource, spark_activity  # noqa: E402

pytestmark = pytest.mark.engines

# 200 map tasks, each ~10 ms (so a 1 s poll sees the job running), then a shuffle into 4 reducers
SLOW_GROUPING = ("SELECT id % 7 AS k, count(*) AS n FROM (SELECT id, java_method('java.lang.Thread', 'sleep', "
                 "CAST(10 AS BIGINT)) AS s FROM range(0, 200, 1, 200)) GROUP BY k")
FAILING = "SELECT assert_true(id < 5, 'id too big') FROM range(0, 10, 1, 2)"



@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    port = free_port()
    session = (SparkSession.builder.master("local[2]").appName("activitysmith-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4").config("spark.sql.adaptive.enabled", "false")
               .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
               .config("spark.connect.grpc.binding.address", "127.0.0.1")
               .config("spark.connect.grpc.binding.port", str(port)).getOrCreate())
    session.sparkContext.setLogLevel("FATAL")
    session.connect_port = port  # type: ignore[attr-defined]
    yield session
    session.stop()


@pytest.fixture(scope="module")
def connect(spark: Any) -> Iterator[Any]:
    pytest.importorskip("grpc")
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = ConnectSession.builder.remote(f"sc://127.0.0.1:{spark.connect_port}").getOrCreate()
    yield session
    session.stop()


class Recording(Activity):
    """An activity that also keeps every snapshot fed to it (what the phone was asked to show)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fed: list[Snapshot] = []

    def feed(self, snapshot: Snapshot) -> None:
        self.fed.append(snapshot)
        super().feed(snapshot)


def ended(sim: Any, key: str) -> dict[str, Any]:
    [found] = [a.view() for a in sim.activities.values() if a.stream_key == key]
    assert found["state"] == "ended", found
    return found


STAGE_TASKS = re.compile(r"^stage (\d+)/(\d+) · ([\d.]+k?)/([\d.]+k?) tasks$")


def test_a_multi_stage_job_shows_stage_and_tasks_while_it_runs(spark, client, sim) -> None:
    act = Recording("Grouping", key="grouping", client=client)
    source = SparkSource(spark, interval=0.2)
    with act:
        act.attach(source)
        rows = spark.sql(SLOW_GROUPING).collect()
    assert sum(r.n for r in rows) == 200
    running = [s for s in act.fed if s.n is not None and s.total and s.n < s.total]
    assert running, [s.subtitle for s in act.fed]  # seen part-way, polled from the daemon thread
    for snap in act.fed:
        assert snap.subtitle is not None and STAGE_TASKS.match(snap.subtitle), snap.subtitle
    last = act.fed[-1]  # detach polls once more: the final count
    assert (last.n, last.total, last.unit) == (204, 204, "tasks")
    assert last.subtitle == "stage 2/2 · 204/204 tasks"
    assert dispatcher_for(client).flush(10)
    cs = ended(sim, "grouping")["content_state"]
    assert (cs["percentage"], cs["color"]) == (100, "green")


def test_only_the_activitys_own_jobs_are_counted(spark, client) -> None:
    spark.range(0, 40, 1, 8).count()  # before the activity: not its job
    act = Recording("Tagged", key="tagged", client=client)
    with act:
        act.attach(SparkSource(spark))
        spark.range(0, 30, 1, 3).count()
    assert act.fed[-1].total == 4  # 3 map tasks and one final count task: the earlier job is not there
    assert dispatcher_for(client).flush(10)


def test_a_job_that_fails_ends_red_and_the_push_names_the_error_not_the_jvm_stack(spark, client, sim) -> None:
    with pytest.raises(Exception) as caught:
        with spark_activity("Checks", spark, key="checks", client=client):
            spark.sql(FAILING).collect()
    assert "at org.apache.spark" in str(caught.value) or "SQLSTATE" in str(caught.value)  # what Spark says
    assert dispatcher_for(client).flush(10)
    a = ended(sim, "checks")
    assert a["content_state"]["color"] == "red"
    [push] = [n["request"] for n in sim.notifications]
    assert push["title"].startswith("❌ Checks failed after")
    head = push["message"].splitlines()[0]
    assert head == "SparkRuntimeException: [USER_RAISED_EXCEPTION] id too big", push["message"]
    assert "org.apache" not in push["message"] and "SQLSTATE" not in push["message"]


def test_a_python_function_that_raises_names_the_python_error(spark, client, sim) -> None:
    with pytest.raises(Exception, match="ZeroDivisionError"):
        with spark_activity("Scoring", spark, key="scoring", client=client):
            spark.sparkContext.parallelize(range(4), 2).map(lambda x: x // 0).collect()
    assert dispatcher_for(client).flush(10)
    assert ended(sim, "scoring")["content_state"]["color"] == "red"
    [push] = [n["request"] for n in sim.notifications]
    assert push["message"].splitlines()[0] == "PythonException: ZeroDivisionError: integer division or modulo by zero"
    assert "Traceback" not in push["message"] and "worker.py" not in push["message"]


def test_activity_blocks_follow_spark_with_no_code(spark, client) -> None:
    with activity("Nightly ETL", client=client, notify="never") as act:
        spark.range(0, 60, 1, 6).selectExpr("id % 3 AS k").groupBy("k").count().collect()
    assert not any(isinstance(s, SparkSource) for s in spark_integration._poller._sources)  # detached
    last = act.last_snapshot
    assert last is not None and last.unit == "tasks" and last.n == last.total and last.total >= 6
    assert dispatcher_for(client).flush(10)


def test_the_tracker_not_knowing_a_job_or_stage_is_no_error(spark) -> None:
    jobs = ClassicJobs(spark.sparkContext, tag="activitysmith-never-used")
    assert jobs.snapshot() is None
    assert jobs._look(10**6) is None  # a job the tracker never had (or no longer retains)


def test_zero_code_in_a_magic_cell(spark, dispatcher, sim) -> None:
    pytest.importorskip("IPython")
    from shell_helpers import fresh_shell

    with fresh_shell(extension=True) as ip:
        ip.user_ns.update(spark=spark, sim_dispatcher=dispatcher)
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        cell = textwrap.dedent(f"""\
            %%activitysmith_progress -k spark-cell -t Spark
            rows = spark.sql("{SLOW_GROUPING}").collect()
            import time; time.sleep(1.2)  # one more poll after the job
            from activitysmith_jupyter import current_activity
            seen = current_activity().last_snapshot
            """)
        result = ip.run_cell(cell, store_history=True)
        assert result.success, result.error_in_exec
        seen = ip.user_ns["seen"]
    assert seen is not None and seen.unit == "tasks" and seen.subtitle == "stage 2/2 · 204/204 tasks"
    assert current_activity() is None


def test_spark_connect_reaches_100_percent_from_done(connect, client, sim) -> None:
    act = Recording("Connect", key="connect", client=client)
    with act:
        act.attach(SparkSource(connect))
        rows = connect.sql(SLOW_GROUPING).collect()
    assert sum(r.n for r in rows) == 200
    last = act.fed[-1]
    assert last.n == last.total and last.total >= 200 and last.unit == "tasks"
    assert last.subtitle is not None and STAGE_TASKS.match(last.subtitle)
    assert dispatcher_for(client).flush(10)
    assert ended(sim, "connect")["content_state"]["percentage"] == 100


def test_a_failing_spark_connect_query_names_the_error_without_the_jvm_stacktrace(connect, client, sim) -> None:
    with pytest.raises(Exception, match="JVM stacktrace|id too big"):
        with spark_activity("Connect checks", connect, key="connect-checks", client=client):
            connect.sql(FAILING).collect()
    assert dispatcher_for(client).flush(10)
    assert ended(sim, "connect-checks")["content_state"]["color"] == "red"
    [push] = [n["request"] for n in sim.notifications]
    assert push["message"].splitlines()[0] == "SparkRuntimeException: [USER_RAISED_EXCEPTION] id too big"
    assert "JVM stacktrace" not in push["message"]


PY4J = ("An error occurred while calling o59.collect.\n: org.apache.spark.SparkException: Job aborted due to stage "
        "failure: Task 1 in stage 2.0 failed 1 times\n\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages"
        "(DAGScheduler.scala:2935)\n")
ANALYSIS = ("[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nope` cannot be "
            "resolved. Did you mean one of the following? [`id`]. SQLSTATE: 42703; line 1 pos 7;\n'Project ['nope]\n"
            "+- Range (0, 3, step=1)\n")


@pytest.mark.parametrize(("text", "expected"), [
    (PY4J, "Job aborted due to stage failure: Task 1 in stage 2.0 failed 1 times"),
    (ANALYSIS, "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nope` "
               "cannot be resolved. Did you mean one of the following? [`id`]."),
    ("\n\tat org.x.Y.z(Y.java:1)\n", None),
], ids=["py4j-java-error", "analysis-exception", "only-a-stack"])
def test_the_first_meaningful_line_of_a_spark_error(text, expected) -> None:
    from activitysmith_jupyter.integrations._spark_errors import first_meaningful_line

    assert first_meaningful_line(text) == expected


def test_stage_counts_read_as_stage_and_compact_task_counts() -> None:
    from activitysmith_jupyter.integrations._spark_tally import StageCount, tally

    running = tally([StageCount(0, 1500, 1500, finished=True), StageCount(1, 500, 0), StageCount(2, 8, 0)])
    assert running is not None and running.subtitle == "stage 2/3 · 1.5k/2.01k tasks"
    skipped = [StageCount(0, 200, 200, finished=True), StageCount(1, 200, 0, skipped=True), StageCount(2, 4, 4)]
    done = tally(skipped, done=True, failed_jobs=1)
    assert done is not None and (done.n, done.total) == (204, 204)
    assert done.subtitle == "stage 2/2 · 204/204 tasks · 1 failed job"
    assert tally([]) is None

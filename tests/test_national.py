"""Partnerships configuration, and the national run giving the same figures in parallel."""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import shutil

import pytest
from pydantic import ValidationError

from transforms.partnerships import Partnership, load_partnerships, write_partnerships

QUARTER = dt.date(2022, 9, 30)
NOW = dt.datetime(2022, 11, 15, 12, tzinfo=dt.UTC)


def test_yaml_config_paths_are_taken_from_the_config_folder(tmp_path):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "p.yaml"
    path.write_text(
        "partnerships:\n"
        "  - {name: Angus, inbox: a/in, output: /abs/out}\n"
        "  - {name: Moray, inbox: m/in, output: m/out, spec_dir: m/spec}\n"
    )
    angus, moray = load_partnerships(path)
    assert angus.inbox == tmp_path / "conf" / "a" / "in"
    assert str(angus.output) == "/abs/out"
    assert angus.spec_dir is None
    assert moray.spec_dir == tmp_path / "conf" / "m" / "spec"


def test_toml_config_and_round_trip(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[[partnerships]]\nname = "Fife"\ninbox = "f/in"\noutput = "f/out"\n'
        'db_url = "sqlite:///x.db"\n'
    )
    [fife] = load_partnerships(path)
    assert (fife.name, fife.db_url, fife.inbox) == ("Fife", "sqlite:///x.db", tmp_path / "f/in")
    again = load_partnerships(write_partnerships(tmp_path / "p.yaml", [fife]))
    assert again == [fife]


@pytest.mark.parametrize(
    "text",
    [
        "partnerships:\n  - {name: A, inbox: a, output: a}\n  - {name: A, inbox: b, output: b}\n",
        "partnerships:\n  - {name: ' ', inbox: a, output: a}\n",
        "partnerships:\n  - {name: A, inbox: a}\n",
        "partnerships:\n  - {name: A, inbox: a, output: a, colour: red}\n",
    ],
)
def test_bad_configs_are_refused(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError):
        load_partnerships(path)


def _partnerships(base, names):
    from transforms.sample import generate_sample

    out = []
    for name in names:
        folder = base / name.replace(" ", "_")
        sample = generate_sample(
            folder / "sample", first=dt.date(2022, 6, 30), last=QUARTER, partnership=name
        )
        (folder / "inbox").mkdir()
        for d in sample.deliveries:
            shutil.copy2(d.file, folder / "inbox" / d.file.name)
        out.append(Partnership(name=name, inbox=folder / "inbox", output=folder / "output"))
    return out


@pytest.mark.slow
def test_parallel_national_run_gives_the_sequential_measures(tmp_path, prefect_harness):
    from flows.national import national_flow, run_partnership

    names = ["Alpha Partnership", "Beta Partnership"]
    seq = _partnerships(tmp_path / "seq", names)
    for p in seq:
        run_partnership(p, QUARTER, now=NOW, stable_wait=0.0)
    par = _partnerships(tmp_path / "par", names)
    config = write_partnerships(tmp_path / "par" / "partnerships.yaml", par)
    results = national_flow(config, QUARTER, workers=2, now=NOW, stable_wait=0.0)
    assert [r["name"] for r in results] == names
    assert all(r["intake"]["processed"] > 0 for r in results)
    for r in results:  # the CPU each partnership used on its worker, readers included
        assert 0 < r["cpu_s"] <= (r["finished"] - r["started"]) * (os.cpu_count() or 1)
    for a, b in zip(seq, par, strict=True):
        left, right = (x.output / "2022-09-30" / "measures.csv" for x in (a, b))
        assert left.stat().st_size > 0
        assert filecmp.cmp(left, right, shallow=False)
    # different partnerships really differ (the comparison is not vacuous)
    first, second = (p.output / "2022-09-30" / "measures.csv" for p in seq)
    assert not filecmp.cmp(first, second, shallow=False)


def test_a_partnership_task_runs_on_one_core_and_leaves_the_setting_as_it_was(monkeypatch):
    import os

    from flows.national import one_core
    from transforms.forked import PROCESSES_ENV, available_cores

    monkeypatch.delenv(PROCESSES_ENV, raising=False)
    with one_core():
        assert available_cores() == 1
    assert PROCESSES_ENV not in os.environ
    monkeypatch.setenv(PROCESSES_ENV, "3")
    with one_core():
        assert os.environ[PROCESSES_ENV] == "1"
    assert os.environ[PROCESSES_ENV] == "3"


@pytest.mark.slow
def test_local_workers_start_with_the_libraries_and_this_runs_environment(monkeypatch):
    """Forked from a fork server that imported GX once, each worker still sees the
    environment of the run that started it, not the first run's, and monitors no more than it
    needs (no profiler, resources every 10 s)."""
    import os

    from distributed import Client, LocalCluster, get_worker

    from flows.workers import local_cluster, preloaded_workers

    def state() -> tuple[bool, bool, str | None, bool, float]:
        import sys

        return (
            "great_expectations" in sys.modules,
            "prefect" in sys.modules,
            os.environ.get("DATASUMMARY_TEST_RUN"),
            "profile" in get_worker().periodic_callbacks,
            get_worker().periodic_callbacks["monitor"].callback_time,
        )

    seen = []
    for run in ("first", "second"):
        monkeypatch.setenv("DATASUMMARY_TEST_RUN", run)
        with (
            preloaded_workers(),
            LocalCluster(**local_cluster(1)) as cluster,
            Client(cluster) as client,
        ):
            seen.append(client.submit(state, pure=False).result())
    assert seen == [(True, False, "first", False, 10_000), (True, False, "second", False, 10_000)]


def test_a_national_approval_carries_the_date_in_aberdeen(tmp_path, monkeypatch):
    """Approved at 00:30 BST on 1 October (23:30 UTC on 30 September): dated 1 October."""
    from types import SimpleNamespace

    import transforms.quarterly
    from flows.national import NATIONAL_APPROVER, run_partnership

    seen = {}

    def produced(*args, approved_on=None, approved_by=None, **kwargs):
        seen.update(on=approved_on, by=approved_by)
        return SimpleNamespace(data=SimpleNamespace(version="1.0"), paths={})

    monkeypatch.setattr(transforms.quarterly, "produce_quarter", produced)
    p = Partnership(name="Alpha", inbox=tmp_path / "inbox", output=tmp_path / "output")
    p.inbox.mkdir()
    late_evening = dt.datetime(2022, 9, 30, 23, 30, tzinfo=dt.UTC)
    run_partnership(p, QUARTER, now=late_evening, approve=True, intake=False)
    assert seen == {"on": dt.date(2022, 10, 1), "by": NATIONAL_APPROVER}


def test_prefect_sends_what_it_holds_before_the_runs_own_server_stops(monkeypatch):
    """Logs and events left for the interpreter's exit found the server stopped: the
    command printed "Error logging to API" and took about two minutes more to end."""
    import prefect.server.api.server
    from prefect.settings import PREFECT_API_URL, temporary_settings

    import flows.national

    order = []

    class Server:
        api_url = "http://127.0.0.1:9/api"

        def start(self):
            order.append("start")

        def stop(self):
            order.append("stop")

    monkeypatch.setattr(prefect.server.api.server, "SubprocessASGIServer", Server)
    monkeypatch.setattr(flows.national, "send_what_prefect_holds", lambda: order.append("send"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(updates={PREFECT_API_URL: None}), flows.national.shared_api():
        order.append("run")
    assert order == ["start", "run", "send", "stop"]

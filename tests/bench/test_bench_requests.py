"""The benchmarks send what the product accepts: a benchmark whose request the app refuses
measures nothing (bench/groups.py once saved groups without the form's version, and the
two-tab guard refused it with 409, failing `make bench`)."""
import pytest

from bench import run
from bench.groups import save_group
from webapp.microsoft import groups
from webapp.microsoft.services import graph_client_for


def test_the_group_benchmark_saves_groups_as_a_browser_does(school, microsoft):
    groups.begin_snapshot(school.connection)  # the picker lists groups, as in the benchmark
    groups.take_snapshot(school.connection.id, graph_client_for(school.connection))
    result = save_group(microsoft, school.client, school.org.id, samples=2)
    assert result["samples"] == 2 and result["graph_requests"] >= 1
    assert result["median"] > 0


def test_make_bench_refuses_a_section_it_does_not_have_rather_than_measuring_nothing(capsys):
    assert set(run.SECTION_ROWS) == set(run.SECTIONS)
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "trust,schedul"])
    assert "unknown section(s) schedul" in capsys.readouterr().err

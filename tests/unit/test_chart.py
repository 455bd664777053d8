"""The charts say what they claim: the recommender's marks the choice and the SLA and numbers
every candidate without a label over another; the serving benchmark's draws each curve and
the 3 ms bar. Checked on matplotlib's Figure objects, and the PNG's header for its size."""

import copy
import itertools
import json
import struct

import pytest
from matplotlib.collections import PathCollection

from bench.serving_chart import LoadPoint, best_of_rounds, read_points
from bench.serving_chart import figure as serving_figure
from model_registry.instance_types import realtime_instance_types
from pipelines.charts.candidates import candidates_figure, write_candidates_chart
from pipelines.charts.figure import DPI
from pipelines.charts.placement import text_box
from steps.decision import DecisionInputs, decide
from steps.results import document
from tests.conftest import FIXTURES

REPO = FIXTURES.parent.parent


def results(max_latency_ms: float = 20.0, job_file: str = "ir_job_default.json") -> dict:
    job = json.loads((FIXTURES / job_file).read_text())
    inputs = DecisionInputs(max_latency_ms, peak_rps=50000, safety_factor=0.7, min_instances=2, max_instances=120)
    return document(decide(job, inputs, realtime_instance_types()), job)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def sla_lines(ax) -> list:
    return [ln for ln in ax.lines if ln.get_linestyle() == "--" and len(set(ln.get_ydata())) == 1]


def test_the_recommender_chart_is_a_png_of_the_figures_size(tmp_path):
    path = tmp_path / "charts" / "candidates.png"
    doc = results()
    write_candidates_chart(doc, path)
    width, height = candidates_figure(doc).get_size_inches() * DPI
    assert png_size(path.read_bytes()) == (round(width), round(height))


def test_the_choice_is_starred_and_the_sla_drawn():
    fig = candidates_figure(results())
    ax = fig.axes[0]
    (sla,) = sla_lines(ax)
    assert sla.get_ydata()[0] == 20 and "P99 ≤ 20 ms" in sla.get_label()
    (chosen,) = [c for c in ax.collections if c.get_label().startswith("chosen")]
    assert chosen.get_label() == "chosen: stock-xgboost on ml.c6i.large"
    assert chosen.get_offsets().tolist() == [[pytest.approx(0.0424, abs=1e-4), 2.0]]
    labels = {c.get_label() for c in ax.collections if isinstance(c, PathCollection)}
    assert {"stock-xgboost, within the SLA (4)", "stock-xgboost, above the SLA (1)"} <= labels
    assert "ml.c6i.large × 92" in " ".join(t.get_text() for t in fig.texts)
    table = fig.axes[1].tables[0]
    assert [table[1, col].get_text().get_text() for col in (0, 2, 8)] == ["1", "ml.c6i.large", "chosen"]
    assert table[1, 1].get_text().get_fontweight() == "bold"
    assert table[5, 8].get_text().get_text() == "above the 20 ms SLA"


@pytest.mark.parametrize("job_file", ["ir_job_default.json", "ir_job_advanced.json"])
def test_every_candidate_is_numbered_and_no_label_covers_another(job_file):
    fig = candidates_figure(results(job_file=job_file))
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = ax.texts
    shown = sum(len(c.get_offsets()) for c in ax.collections if not c.get_label().startswith("chosen"))
    assert sorted(t.get_text() for t in labels) == [str(n) for n in range(1, shown + 1)]
    boxes = [text_box(t, renderer) for t in labels]
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]
    inside = ax.get_window_extent(renderer)
    assert all(inside.contains(b.x0, b.y0) and inside.contains(b.x1, b.y1) for b in boxes)


def test_without_a_choice_there_is_no_star_and_a_set_aside_candidate_is_listed():
    doc = results(max_latency_ms=1)
    broken = copy.deepcopy(doc["candidates"]["items"][0])
    broken.update(recommendation_id="x/9", model_latency_ms=None, meets_sla=False, excluded_reason="no ModelLatency")
    doc["candidates"]["items"].append(broken)
    fig = candidates_figure(doc)
    ax = fig.axes[0]
    assert not [c for c in ax.collections if c.get_label().startswith("chosen")]
    assert len(ax.texts) == 5 and len(sla_lines(ax)) == 1
    assert any(t.get_text().startswith("no choice: no recommendation meets") for t in fig.texts)
    table = fig.axes[1].tables[0]
    assert table[6, 0].get_text().get_text() == "-"
    assert table[6, 8].get_text().get_text() == "set aside: no ModelLatency"


def test_the_serving_chart_draws_each_configuration_and_the_3_ms_bar():
    doc = json.loads((REPO / "docs" / "serving-throughput-p99.json").read_text())
    ax = serving_figure(best_of_rounds(read_points(doc))).axes[0]
    (bar,) = sla_lines(ax)
    assert bar.get_ydata()[0] == 3.0 and ax.get_yscale() == "log"
    curves = {ln.get_label(): len(ln.get_xdata()) for ln in ax.lines if ln is not bar}
    assert curves == {
        "ours, 2 workers: best 23,619 req/s at p99 2.60 ms": 1,
        "ours, 1 worker: best 16,008 req/s at p99 0.58 ms": 1,
        "reference, 2 workers: best 1,356 req/s at p99 1,027 ms": 2,
        "reference, 1 worker: best 783 req/s at p99 1,506 ms": 1,
    }


def test_a_sweep_keeps_the_best_round_of_each_connection_count():
    runs = [
        LoadPoint("ours", 2, 9000, 1.0, 4),
        LoadPoint("ours", 2, 9500, 1.1, 4),
        LoadPoint("ours", 2, 12000, 2.0, 8),
        LoadPoint("ours", 1, 8000, 1.0, 4),
    ]
    assert sorted(best_of_rounds(runs), key=lambda p: (p.workers, p.rps)) == [runs[3], runs[1], runs[2]]


def test_both_containers_are_drawn_with_their_own_markers_and_listed():
    job = json.loads((FIXTURES / "ir_job_two_specifications.json").read_text())
    doc = document(decide(job, DecisionInputs(20, 50000, 0.7, 2, 120), realtime_instance_types()), job)
    fig = candidates_figure(doc)
    labels = {c.get_label() for c in fig.axes[0].collections if isinstance(c, PathCollection)}
    assert {"stock-xgboost, within the SLA (3)", "rtb-mlops-fast, within the SLA (3)"} <= labels
    assert "chosen: rtb-mlops-fast on ml.c6i.large" in labels
    assert any("cheaper per inference than the stock container's best" in t.get_text() for t in fig.texts)
    table = fig.axes[1].tables[0]
    assert {table[row, 1].get_text().get_text() for row in range(1, 7)} == {"stock-xgboost", "rtb-mlops-fast"}

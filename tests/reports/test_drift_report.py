"""Input drift in the reports: the sample run (region-a's fault from +10 to +14 s) with drift
samples every 0.5 s from region-a's and region-b's servers, region-a's drifting from +11 s."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from gameday.driftsamples import DRIFT_FILE, DriftSample, FeatureSample, append_drift_samples
from gameday.errors import MeasurementError
from reports import build_reports
from tests.html_refs import external_references


def _sample(t_s: float, member: str, region: str, inputs: int, *,
            drifting: bool) -> DriftSample:
    features = tuple(FeatureSample(
        name=name, psi=4.0 if drifting and name == "amount" else 0.02, method="ks",
        statistic=0.5 if drifting else 0.02, p_value=1e-9 if drifting else 0.6,
        threshold=0.05, drifted=drifting and name != "card_age_days")
        for name in ("amount", "merchant_risk", "card_age_days"))
    return DriftSample(t_s=t_s, member=member, region=region, stack="tabular", status=200,
                       window_rows=1000, inputs_total=inputs, dataset_drift=drifting,
                       drifted_features=2 if drifting else 0, features=features)


def _drift_run(run_dir: Path, sample: ModuleType, *, shifted: bool = True) -> None:
    """``shifted``: the sample run's fault is an input-drift fault (its action's output says
    so, as ``shift_inputs`` answers); else it stays the region outage it is."""
    if shifted:
        events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text()
                  .splitlines()]
        for event in events:
            if event["kind"] == "fault_start":
                event["detail"]["output"] = {"fault": "input-drift", "region": "region-a"}
        (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    samples = []
    for step in range(60):
        offset_s = step * 0.5
        for member, region in (("tabular-a1", "region-a"), ("tabular-b1", "region-b")):
            drifting = region == "region-a" and 11.0 <= offset_s < 18.0
            samples.append(_sample(sample.T0_S + offset_s, member, region,
                                   int(offset_s * 150), drifting=drifting))
    append_drift_samples(run_dir, samples)


def test_the_report_times_detection_from_the_fault_start_and_finds_no_false_alert(
        tmp_path: Path, sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    _drift_run(run_dir, sample)
    build_reports(run_dir)
    drift = json.loads((run_dir / "summary.json").read_text())["drift"]
    (detection,) = drift["detections"]
    assert detection["member"] == "tabular-a1" and detection["scenario"] == "region-outage"
    assert detection["dataset_drift_s"] == pytest.approx(1.0)
    assert detection["psi_alert_s"] == pytest.approx(1.0)
    assert detection["psi_alert_feature"] == "amount"
    assert detection["first_drifted"] == ["amount", "merchant_risk"]
    assert detection["cleared_s"] == pytest.approx(4.0)  # the fault ended at +14 s
    assert drift["false_alerts"] == [] and drift["members"] == ["tabular-a1", "tabular-b1"]
    (region,) = drift["regions"]
    assert region["dataset_drift_s"] == pytest.approx(1.0)

    html = (run_dir / "report.html").read_text()
    assert '<h2 id="drift">Input drift</h2>' in html
    assert 'id="drift-ttd-region-outage-tabular-a1">1.00 s<' in html
    assert 'id="drift-cleared-region-outage-tabular-a1">4.00 s<' in html
    assert 'id="drift-false-alerts" data-count="0"' in html
    assert 'id="drift-psi-chart"' in html
    assert html.index('id="drift"') < html.index("<h2>SLOs</h2>")
    assert external_references(html).found == []
    markdown = (run_dir / "summary.md").read_text()
    assert "region-a saw dataset drift after 1.00 s" in markdown


def test_a_drift_alarm_outside_the_fault_is_reported_as_a_false_alert(
        tmp_path: Path, sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    _drift_run(run_dir, sample)
    append_drift_samples(run_dir, [_sample(sample.T0_S + 5.2, "tabular-b1", "region-b", 780,
                                           drifting=True)])
    build_reports(run_dir)
    drift = json.loads((run_dir / "summary.json").read_text())["drift"]
    (alert,) = drift["false_alerts"]
    assert alert["member"] == "tabular-b1" and alert["dataset_drift"] is True
    assert 'data-count="1"' in (run_dir / "report.html").read_text()


def test_a_fault_that_shifts_no_inputs_times_no_detection_but_covers_its_alarms(
        tmp_path: Path, sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    _drift_run(run_dir, sample, shifted=False)  # the region outage: no drift to time, and
    build_reports(run_dir)                        # an alarm during it is not a false one
    drift = json.loads((run_dir / "summary.json").read_text())["drift"]
    assert drift["detections"] == [] and drift["regions"] == []
    assert drift["false_alerts"] == []


def test_a_run_without_drift_samples_has_no_drift_section(built_sample: tuple[Path, object]
                                                         ) -> None:
    run_dir, _ = built_sample
    assert json.loads((run_dir / "summary.json").read_text())["drift"] is None
    assert 'id="drift"' not in (run_dir / "report.html").read_text()


def test_a_damaged_drift_file_is_a_measurement_error_naming_it(tmp_path: Path,
                                                               sample: ModuleType) -> None:
    run_dir = sample.write_sample_run(tmp_path / "20261202T000000Z-sample")
    _drift_run(run_dir, sample)
    with (run_dir / DRIFT_FILE).open("a") as handle:
        handle.write('{"t_s": "soon"}\n{"t_s": 1}\n')
    with pytest.raises(MeasurementError, match=r"drift\.jsonl: line 121: not a drift sample"):
        build_reports(run_dir)

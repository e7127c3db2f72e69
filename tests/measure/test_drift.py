"""Time to detect input drift, time to clear and false alerts, from drift samples and fault
windows written by hand."""

from __future__ import annotations

from gameday.driftsamples import DriftSample, FeatureSample
from gameday.measure import FaultWindow
from gameday.measure.drift import drift_figures

T0 = 1_000.0
WINDOW = FaultWindow("drift", "region-a", start_s=T0 + 10.0, end_s=T0 + 20.0,
                     injecting_from_s=T0 + 9.8)


def _sample(t: float, member: str = "tabular-a1", region: str = "region-a", *,
            dataset: bool | None = False, psi: float = 0.01, drifted: tuple[str, ...] = (),
            inputs: int = 0, status: int = 200) -> DriftSample:
    features = tuple(FeatureSample(name=name, psi=psi if name == "amount" else 0.01,
                                   method="ks", statistic=0.1, p_value=0.5, threshold=0.05,
                                   drifted=name in drifted)
                     for name in ("amount", "hour", "foreign"))
    return DriftSample(t_s=T0 + t, member=member, region=region, stack="tabular",
                       status=status, window_rows=1000 if status == 200 else 0,
                       inputs_total=inputs, dataset_drift=dataset if status == 200 else None,
                       drifted_features=len(drifted), features=features if status == 200 else ())


def _run(*, shift_at: float = 10.5, flush_at: float = 24.0) -> list[DriftSample]:
    """One member at 0.5 s: steady until ``shift_at``, where one feature drifts; the dataset
    and the PSI a second later; back to normal from ``flush_at``; 100 inputs a second."""
    samples = []
    for step in range(60):
        t = step * 0.5
        inputs = int(t * 100)
        if shift_at <= t < flush_at:
            alerting = t >= shift_at + 1.0
            samples.append(_sample(t, dataset=alerting, psi=3.0 if alerting else 0.05,
                                   drifted=("amount", "hour") if alerting else ("amount",),
                                   inputs=inputs))
        else:
            samples.append(_sample(t, inputs=inputs))
    return samples


def test_time_to_detect_counts_from_the_fault_start_to_the_first_sample_showing_each_sign(
) -> None:
    figures = drift_figures(_run(), [WINDOW])
    assert figures is not None
    (member,) = figures.detections
    assert member.feature_drift_s == 0.5 and member.first_drifted == ("amount",)
    assert member.dataset_drift_s == 1.5
    assert member.psi_alert_s == 1.5 and member.psi_alert_feature == "amount"
    assert not member.drifted_before
    (region,) = figures.regions
    assert region.dataset_drift_s == region.dataset_drift_all_s == 1.5


def test_time_to_clear_runs_from_the_rollback_to_the_first_quiet_sample() -> None:
    figures = drift_figures(_run(flush_at=24.0), [WINDOW])
    assert figures is not None and figures.detections[0].cleared_s == 4.0


def test_the_alarm_ringing_on_after_the_rollback_until_the_window_is_flushed_is_no_false_alert(
) -> None:
    # at 100 inputs/s a 1,000-input window still holds fault inputs for 10 s after the end
    figures = drift_figures(_run(flush_at=29.0), [WINDOW])
    assert figures is not None and figures.false_alerts == ()


def test_an_alert_before_the_fault_or_in_another_region_is_a_false_alert() -> None:
    samples = _run()
    samples[4] = _sample(2.0, dataset=True, psi=0.3, drifted=("amount", "hour"), inputs=200)
    samples.append(_sample(15.0, member="tabular-b1", region="region-b", psi=0.4, inputs=5))
    figures = drift_figures(samples, [WINDOW])
    assert figures is not None
    alerts = {(a.member, a.start_s - T0, a.samples, a.dataset_drift) for a in figures.false_alerts}
    assert alerts == {("tabular-a1", 2.0, 1, True), ("tabular-b1", 15.0, 1, False)}
    # only the target region's members are timed
    assert [d.member for d in figures.detections] == ["tabular-a1"]


def test_an_alarm_that_rings_again_once_the_window_is_flushed_is_a_false_alert() -> None:
    samples = _run(flush_at=22.0)
    samples.append(_sample(40.0, psi=0.5, inputs=4000))
    figures = drift_figures(samples, [WINDOW])
    assert figures is not None
    assert [a.start_s - T0 for a in figures.false_alerts] == [40.0]


def test_a_member_already_drifting_before_the_fault_is_marked_and_never_seen_is_none() -> None:
    drifting = [_sample(step * 0.5, dataset=True, psi=1.0, drifted=("amount", "hour"),
                        inputs=step * 50) for step in range(60)]
    quiet = [_sample(step * 0.5, member="tabular-a2", inputs=step * 50) for step in range(60)]
    figures = drift_figures([*drifting, *quiet], [WINDOW])
    assert figures is not None
    by_member = {d.member: d for d in figures.detections}
    assert by_member["tabular-a1"].drifted_before
    assert by_member["tabular-a2"].dataset_drift_s is None
    assert by_member["tabular-a2"].psi_alert_s is None
    (region,) = figures.regions
    assert region.dataset_drift_s == 0.0 and region.dataset_drift_all_s is None


def test_unanswered_samples_neither_detect_nor_end_an_alert() -> None:
    samples = _run()
    samples[23] = _sample(11.5, status=0)  # the first alerting sample went unanswered
    figures = drift_figures(samples, [WINDOW])
    assert figures is not None
    assert figures.detections[0].dataset_drift_s == 2.0 and figures.unanswered == 1


def test_no_sample_means_no_figures() -> None:
    assert drift_figures([], [WINDOW]) is None

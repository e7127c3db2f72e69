from __future__ import annotations

from html.parser import HTMLParser

from reports import build_reports


class _ExternalReferences(HTMLParser):
    """Collects every tag attribute that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for attribute in ("src", "href"):
            value = values.get(attribute) or ""
            if value.startswith(("http://", "https://", "//")):
                self.found.append(f"<{tag} {attribute}={value}>")
        if tag == "script" and "src" not in values:
            self.inline_scripts += 1


def test_the_report_is_one_self_contained_file(built_sample):
    run_dir, _ = built_sample
    html = (run_dir / "report.html").read_text()
    parser = _ExternalReferences()
    parser.feed(html)
    assert parser.found == []
    assert parser.inline_scripts >= 2  # plotly.js itself and the figure
    assert "@import" not in html and "fonts.googleapis" not in html


def test_the_report_names_the_verdict_and_the_scenario(built_sample):
    run_dir, _ = built_sample
    html = (run_dir / "report.html").read_text()
    assert "region-outage" in html and "PASS" in html
    assert "rto&lt;=5s[region-outage]" in html  # the SLO table, escaped


def test_a_saturated_run_carries_the_generator_banner(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", saturated=True)
    build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert "Generator saturated" in html and "INCONCLUSIVE" in html


def test_the_report_grows_with_buckets_not_with_requests(tmp_path, sample):
    sizes = []
    for rate_per_s in (50, 400):
        run_dir = sample.write_sample_run(tmp_path / f"rate-{rate_per_s}", rate_per_s=rate_per_s)
        build_reports(run_dir)
        sizes.append((run_dir / "report.html").stat().st_size)
    assert abs(sizes[1] - sizes[0]) < 10_000  # 8x the requests, same 30 buckets

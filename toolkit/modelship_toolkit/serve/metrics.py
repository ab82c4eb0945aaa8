"""Prometheus metrics of the serving runtime (one registry per server), exposed at ``GET /metrics``.

Request-path metrics are counters and histograms labelled by ``variant`` and ``version``; state
(queue depth, loaded backends, routing weights) is read from the live variants at scrape time by a
collector, so unloaded variants leave no stale series.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

try:  # no *_created series: they double the exposition and nobody queries them here
    from prometheus_client import disable_created_metrics

    disable_created_metrics()
except ImportError:  # pragma: no cover
    pass

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The Renard R10 series (ten steps per decade, each about 26% above the last) from 0.1 ms to 10 s.
#: The canary's latency check estimates medians from these buckets, as PromQL's histogram_quantile
#: does; with the old 1-2.5-5 buckets a GPU engine serving around 1 ms had its median jump from the
#: (0.5, 1] bucket to (1, 2.5] on a small shift, read as +58%, and a good candidate was rolled back
#: on the H200 (2026-12-01). Here each bound is at most 28% above the last.
R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0)
LATENCY_BUCKETS = tuple(round(m * 10.0**e, 6) for e in range(-4, 1) for m in R10) + (10.0,)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
MAX_ABS_BUCKETS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)


class _StateCollector(Collector):
    def __init__(self, snapshot: Callable[[], list[dict]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily("modelship_queue_depth", "Requests waiting in the variant's batching queue.", labels=["model", "variant", "version"])
        info = GaugeMetricFamily(
            "modelship_backend_info", "1 for each loaded variant; fallback=true when the PyTorch fallback serves instead of the engine.",
            labels=["model", "variant", "version", "backend", "fallback"])
        weight = GaugeMetricFamily("modelship_candidate_weight_percent", "Share of traffic routed to the candidate (0-100).", labels=["model"])
        share = GaugeMetricFamily("modelship_shadow_share_percent", "Share of stable traffic mirrored to the shadow (0-100).", labels=["model"])
        for s in self._snapshot():
            model = s.get("model") or ""
            for role, v in s.get("variants", {}).items():
                depth.add_metric([model, role, v["version"]], v["queueDepth"])
                info.add_metric([model, role, v["version"], v["backend"], "true" if v["fallback"] else "false"], 1)
            weight.add_metric([model], s.get("weights", {}).get("candidate", 0))
            share.add_metric([model], s.get("weights", {}).get("shadow", 0))
        return [depth, info, weight, share]


class ServeMetrics:
    """All metrics of one server.

    Args:
        snapshot: returns every model's :meth:`VariantSet.state`, read at scrape time.
    """

    def __init__(self, snapshot: Callable[[], list[dict]]) -> None:
        r = self.registry = CollectorRegistry()
        vv = ["model", "variant", "version"]
        self.requests = Counter("modelship_requests", "Inference requests by HTTP status code.", vv + ["code"], registry=r)
        self.latency = Histogram("modelship_request_duration_seconds", "Inference request latency, seconds.", vv, buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("modelship_batch_size", "Rows per executed batch.", vv, buckets=BATCH_BUCKETS, registry=r)
        self.batch_latency = Histogram("modelship_batch_duration_seconds", "Engine time per executed batch, seconds.", vv, buckets=LATENCY_BUCKETS, registry=r)
        sv = ["model", "stable_version", "shadow_version"]
        self.shadow_comparisons = Counter("modelship_shadow_comparisons", "Sample rows compared between shadow and stable.", sv, registry=r)
        self.shadow_agreement = Counter("modelship_shadow_agreement", "Compared rows whose top-1 class agreed (classification).", sv, registry=r)
        self.shadow_max_abs = Histogram("modelship_shadow_max_abs", "Per request max |shadow - stable| over outputs.", sv, buckets=MAX_ABS_BUCKETS, registry=r)
        self.shadow_dropped = Counter("modelship_shadow_dropped", "Mirrored requests dropped (shadow queue full, invalid for the shadow, or failed).", ["model", "reason"], registry=r)
        self.labelled = Counter("modelship_labelled_predictions", "Answered sample rows that carried a label.", vv, registry=r)
        self.correct = Counter("modelship_correct_predictions", "Labelled sample rows whose top-1 prediction matched the label.", vv, registry=r)
        r.register(_StateCollector(snapshot))

    def render(self) -> bytes:
        """The text exposition."""
        return generate_latest(self.registry)


#: Gauges that are a worker's own (summed over workers); every other gauge is the same in every
#: worker (weights, loaded variants) and is reported once.
SUMMED_GAUGES = frozenset({"modelship_queue_depth"})


class _Merged(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def merge_expositions(texts: Iterable[bytes]) -> bytes:
    """The text expositions of several workers of one runtime as one (``--workers``): counters and
    histograms summed sample by sample, and :data:`SUMMED_GAUGES`; other gauges taken from the
    first worker that has the series."""
    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple, float]] = {}
    for text in texts:
        for fam in text_string_to_metric_families(text.decode()):
            families.setdefault(fam.name, Metric(fam.name, fam.documentation, fam.type, fam.unit))
            acc = values.setdefault(fam.name, {})
            summed = fam.type != "gauge" or fam.name in SUMMED_GAUGES
            for s in fam.samples:
                key = (s.name, tuple(s.labels.items()))
                if key not in acc:
                    acc[key] = s.value
                elif summed:
                    acc[key] += s.value
    for name, fam in families.items():
        for (sample, labels), value in values[name].items():
            fam.add_sample(sample, dict(labels), value)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(list(families.values())))
    return generate_latest(registry)

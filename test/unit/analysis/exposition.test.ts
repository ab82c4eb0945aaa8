import { describe, expect, it } from 'vitest';
import { counterIncrease, ExpositionParseError, parseExposition, seriesKey } from '../../../activities/metrics/exposition.ts';
import { observationFromSnapshots } from '../../../activities/metrics/scrape-source.ts';
import { buildQueries } from '../../../activities/metrics/prometheus-source.ts';
import { promAlternatives } from '../../../activities/metrics/prometheus-client.ts';

// As prometheus_client writes it (no *_created series).
const TEXT = `# HELP modelship_requests_total Inference requests by HTTP status code.
# TYPE modelship_requests_total counter
modelship_requests_total{code="200",model="digits",variant="stable",version="v1.0.0"} 90.0
modelship_requests_total{code="500",model="digits",variant="candidate",version="v2.0.0"} 3.0
modelship_requests_total{code="200",model="digits",variant="candidate",version="v2.0.0"} 47.0
modelship_requests_total{code="400",model="digits",variant="candidate",version="v2.0.0"} 5.0
# HELP modelship_request_duration_seconds Inference request latency, seconds.
# TYPE modelship_request_duration_seconds histogram
modelship_request_duration_seconds_bucket{le="0.005",model="digits",variant="stable",version="v1.0.0"} 80.0
modelship_request_duration_seconds_bucket{le="0.01",model="digits",variant="stable",version="v1.0.0"} 89.0
modelship_request_duration_seconds_bucket{le="+Inf",model="digits",variant="stable",version="v1.0.0"} 90.0
modelship_request_duration_seconds_count{model="digits",variant="stable",version="v1.0.0"} 90.0
modelship_request_duration_seconds_sum{model="digits",variant="stable",version="v1.0.0"} 0.31
# HELP modelship_backend_info 1 for each loaded variant.
# TYPE modelship_backend_info gauge
modelship_backend_info{backend="onnxruntime",fallback="false",model="digits",variant="stable",version="v1.0.0"} 1.0
odd_metric{path="C:\\\\dir",msg="say \\"hi\\"\\nbye"} -Inf 1700000000000
nan_metric NaN
`;

describe('parseExposition', () => {
  const { samples, types } = parseExposition(TEXT);
  it('reads names, labels, values and types', () => {
    expect(types.modelship_requests_total).toBe('counter');
    expect(types.modelship_request_duration_seconds).toBe('histogram');
    expect(samples).toHaveLength(12);
    expect(samples[0]).toEqual({ name: 'modelship_requests_total', labels: { code: '200', model: 'digits', variant: 'stable', version: 'v1.0.0' }, value: 90 });
    const inf = samples.find((s) => s.labels.le === '+Inf');
    expect(inf?.value).toBe(90);
  });
  it('unescapes label values and reads special values and timestamps', () => {
    const odd = samples.find((s) => s.name === 'odd_metric')!;
    expect(odd.labels).toEqual({ path: 'C:\\dir', msg: 'say "hi"\nbye' });
    expect(odd.value).toBe(-Infinity);
    expect(odd.timestamp).toBe(1700000000000);
    expect(samples.find((s) => s.name === 'nan_metric')!.value).toBeNaN();
  });
  it('names the line it cannot read', () => {
    expect(() => parseExposition('ok 1\nbad{x="1} 2\n')).toThrow(ExpositionParseError);
    expect(() => parseExposition('ok 1\nbad{x="1"} two\n')).toThrow(/line 2: not a number/);
    expect(() => parseExposition('{x="1"} 2')).toThrow(/line 1: expected a metric name/);
  });
  it('keys series independently of label order', () => {
    expect(seriesKey({ name: 'm', labels: { a: '1', b: '2' } })).toBe(seriesKey({ name: 'm', labels: { b: '2', a: '1' } }));
  });
});

describe('counter diffs and window counts', () => {
  const before = parseExposition(TEXT).samples;
  const later = TEXT.replace('version="v1.0.0"} 90.0', 'version="v1.0.0"} 190.0')
    .replace('code="500",model="digits",variant="candidate",version="v2.0.0"} 3.0', 'code="500",model="digits",variant="candidate",version="v2.0.0"} 1.0')
    .replace('le="0.005",model="digits",variant="stable",version="v1.0.0"} 80.0', 'le="0.005",model="digits",variant="stable",version="v1.0.0"} 170.0')
    .replace('le="0.01",model="digits",variant="stable",version="v1.0.0"} 89.0', 'le="0.01",model="digits",variant="stable",version="v1.0.0"} 189.0')
    .replace('le="+Inf",model="digits",variant="stable",version="v1.0.0"} 90.0', 'le="+Inf",model="digits",variant="stable",version="v1.0.0"} 190.0')
    .concat('modelship_requests_total{code="503",model="digits",variant="candidate",version="v2.0.0"} 2.0\n');
  const after = parseExposition(later).samples;

  it('diffs counters, treating a decrease as a reset and a new series as from 0', () => {
    const inc = counterIncrease(before, after);
    const get = (code: string) => inc.find((s) => s.name === 'modelship_requests_total' && s.labels.code === code && s.labels.version === 'v2.0.0')?.value;
    expect(get('500')).toBe(1); // reset: 3 → 1
    expect(get('503')).toBe(2); // new series
    expect(get('200')).toBe(0);
  });

  it('turns two scrapes into a window observation (5xx are errors, 4xx are not)', () => {
    const o = observationFromSnapshots({ at: 0, samples: before }, { at: 30_000, samples: after }, {
      model: 'digits',
      stableVersion: 'v1.0.0',
      candidateVersion: 'v2.0.0',
      windowSeconds: 30,
      mode: 'canary',
    });
    expect(o.source).toBe('scrape');
    expect(o.window).toEqual({ start: '1970-01-01T00:00:00.000Z', end: '1970-01-01T00:00:30.000Z' });
    expect(o.stable.requests).toBe(100);
    expect(o.stable.latency).toEqual({ buckets: [{ le: 0.005, count: 90 }, { le: 0.01, count: 100 }], count: 100 });
    expect(o.candidate).toMatchObject({ requests: 3, errors: 3 });
    expect(o.queries.latency).toBe('scrape');
    expect(o.shadow).toBeUndefined();
  });
});

describe('PromQL', () => {
  it('escapes versions in regex alternatives', () => {
    expect(promAlternatives(['v1.0.0', 'v2+rc'])).toBe(String.raw`"v1\\.0\\.0|v2\\+rc"`);
  });
  it('builds per-version increase queries over the window', () => {
    const qs = buildQueries({ model: 'digits', stableVersion: 'v1.0.0', candidateVersion: 'v2.0.0' }, 90, 'shadow');
    const req = qs.find((q) => q.key === 'requests')!.promql;
    const sel = String.raw`modelship_requests_total{model="digits",version=~"v1\\.0\\.0|v2\\.0\\.0"}`;
    // increase() where the series existed at the start; the end value where it was born inside.
    expect(req).toBe(`sum by (version, code) ((increase(${sel}[90s]) and ${sel} offset 90s) or (${sel} unless ${sel} offset 90s))`);
    expect(qs.find((q) => q.key === 'shadowAgreement')!.promql).toContain('shadow_version="v2.0.0"');
    expect(buildQueries({ model: 'd', stableVersion: 'a', candidateVersion: 'b' }, 30, 'canary').map((q) => q.key)).toEqual(['requests', 'latency', 'labelled', 'correct']);
  });
});

/**
 * The rollout as a time line: the candidate's traffic weight over time and the decision records
 * along it, read from the decision records alone (each carries its time, and the weight it was
 * taken at).
 *
 * @module
 */
import type { DecisionRecord, RolloutStatus } from '../../lib/rollout.ts';

/** One decision, reduced to what the report shows. */
export interface TimelineEvent {
  /** Seconds since the rollout's first record. */
  t: number;
  record: DecisionRecord;
  /** The candidate's weight in % once this decision took effect. */
  weight: number;
  /** One line: the statistic against its threshold, who decided and why. */
  line: string;
}

interface CheckLike {
  check?: string;
  statistic?: { name?: string; value?: number };
  threshold?: { name?: string; value?: number };
  verdict?: string;
}

/** The checks of an analysis or shadow-gate record, as `check: statistic vs threshold → verdict`. */
export function checkLines(record: DecisionRecord): string[] {
  const checks = (record.detail as { checks?: CheckLike[] } | undefined)?.checks;
  if (!Array.isArray(checks)) return [];
  return checks.map((c) => {
    const stat = c.statistic?.value !== undefined ? `${c.statistic.name ?? 'statistic'} ${round(c.statistic.value)}` : 'no statistic';
    const limit = c.threshold?.value !== undefined ? ` vs ${c.threshold.name ?? 'threshold'} ${round(c.threshold.value)}` : '';
    return `${c.check ?? '?'}: ${stat}${limit} → ${c.verdict ?? '?'}`;
  });
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
}

/** The decision records as a time line with the weight in effect after each. */
export function rolloutTimeline(decisions: DecisionRecord[]): TimelineEvent[] {
  if (!decisions.length) return [];
  const t0 = Date.parse(decisions[0]!.at);
  let weight = 0;
  return decisions.map((record) => {
    if (record.kind === 'approval' && record.verdict === 'approved' && record.weight !== undefined) weight = record.weight;
    else if (record.kind === 'promotion') weight = 100;
    else if (record.kind === 'rollback' || record.kind === 'rejection') weight = 0;
    else if (record.kind === 'analysis' && record.weight !== undefined) weight = record.weight;
    const who = record.by ? ` by ${record.by}` : '';
    const why = record.reason ? `: ${record.reason}` : '';
    const summary = (record.detail as { summary?: string } | undefined)?.summary;
    const line = `${record.kind} ${record.verdict}${record.step !== undefined ? ` (step ${record.step}, ${record.weight ?? 0}%)` : ''}${who}${why}${!why && summary ? `: ${summary}` : ''}`;
    return { t: Math.max(0, (Date.parse(record.at) - t0) / 1000), record, weight, line };
  });
}

/** A line saying a rollout ran in several runs and which records are only in the store; undefined for a rollout of one run. */
export function runsNote(r: Pick<RolloutStatus, 'runs' | 'analysesNotCarried'>): string | undefined {
  if (!r.runs || r.runs < 2) return undefined;
  const left = r.analysesNotCarried ? `; its ${r.analysesNotCarried} oldest analysis records are not listed here (each is in the package's decisions/ folder)` : '';
  return `The rollout continued as new ${r.runs - 1} time(s) (${r.runs} runs)${left}.`;
}

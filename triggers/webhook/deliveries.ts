/**
 * Replay protection: each delivery ID (GitHub's `X-GitHub-Delivery`, GitLab's `Idempotency-Key`
 * or `X-Gitlab-Event-UUID`) is acted on once. What was decided is kept in a JSON-lines file, so a
 * delivery replayed after a restart gets the first answer back and starts nothing.
 *
 * The workflow ID (`release/<model>/<tag>`) is the second line of defence: GitHub sends both a
 * `push` and a `create` for one tag, and both find the one release.
 *
 * @module
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What the receiver answered to a delivery (kept, and given again on a replay). */
export interface DeliveryOutcome {
  status: string;
  workflowId?: string;
  reason?: string;
}

/** How a new delivery stands against those seen before. */
export type Claim = { kind: 'new' } | { kind: 'in-flight' } | { kind: 'seen'; outcome: DeliveryOutcome };

interface Entry {
  key: string;
  at: string;
  outcome: DeliveryOutcome;
}

/** Delivery IDs seen, newest kept; optionally on disk. */
export class DeliveryLog {
  private readonly seen = new Map<string, DeliveryOutcome>();
  private readonly pending = new Set<string>();
  private lines = 0;

  /**
   * @param file - JSON-lines file to keep the log in (read now if it exists); none keeps it in memory
   * @param maxEntries - IDs remembered; the oldest are forgotten first
   */
  constructor(
    private readonly file?: string,
    private readonly maxEntries = 10_000,
  ) {
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as Entry;
        if (typeof e.key === 'string' && e.outcome && typeof e.outcome.status === 'string') this.remember(e.key, e.outcome);
      } catch {
        // a line cut by a crash mid-write: the deliveries before it still count
      }
      this.lines++;
    }
  }

  /** Claims `key` for processing; `new` must be followed by {@link record} or {@link release}. */
  claim(key: string): Claim {
    const outcome = this.seen.get(key);
    if (outcome) return { kind: 'seen', outcome };
    if (this.pending.has(key)) return { kind: 'in-flight' };
    this.pending.add(key);
    return { kind: 'new' };
  }

  /** Records what was decided for a claimed delivery: a replay of it gets this back. */
  record(key: string, outcome: DeliveryOutcome): void {
    this.pending.delete(key);
    this.remember(key, outcome);
    if (!this.file) return;
    appendFileSync(this.file, `${JSON.stringify({ key, at: new Date().toISOString(), outcome } satisfies Entry)}\n`);
    if (++this.lines > 2 * this.maxEntries) this.compact();
  }

  /** Gives a claim back without deciding (the sender's retry of it is then acted on). */
  release(key: string): void {
    this.pending.delete(key);
  }

  private remember(key: string, outcome: DeliveryOutcome): void {
    this.seen.delete(key);
    this.seen.set(key, outcome);
    while (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Rewrites the file with only what is remembered (atomically: a crash leaves the old one). */
  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const at = new Date().toISOString();
    writeFileSync(tmp, [...this.seen].map(([key, outcome]) => `${JSON.stringify({ key, at, outcome })}\n`).join(''));
    renameSync(tmp, this.file!);
    this.lines = this.seen.size;
  }
}

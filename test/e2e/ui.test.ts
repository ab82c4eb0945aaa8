/**
 * The Temporal Web UI as an operator uses it, in a real browser (Debian's chromium, driven
 * headless by playwright-core) against the real dev server and a real rollout: the list filtered
 * by `ReleaseStage="awaiting-approval"` shows the waiting rollout; the release page shows
 * ModelName, GitTag, ReleaseStage, the step summaries and the memo; a person approves a canary step
 * with the UI's "Send an Update" (the `approve` Update, described by the workflow) and the rollout
 * moves on; the release's report opens in the browser. Then the everyday CLI commands on those
 * releases: list, report, diff. Screenshots land in test-artifacts/ui/.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../workers/prometheus.ts';
import { startTraffic } from '../../cli/demo/traffic.ts';
import { startRelease } from '../../cli/release/start-release.ts';
import { rolloutWorkflowId } from '../../lib/rollout.ts';
import { tempDir } from '../integration/harness.ts';
import { approveAll, promoteFirstDigits, startRolloutStack, tagDigits, waitRollout, type RolloutStack } from './rollout-driver.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');
let stack: RolloutStack;
let uiBase: string;
let browser: Browser;
let page: Page;
let repo: string;
let traffic: Awaited<ReturnType<typeof startTraffic>> | undefined;

/** Opens a tab of the workflow page and waits until it shows `text`. */
async function openTab(name: string, text: string): Promise<void> {
  await page.getByRole('link', { name }).or(page.getByRole('tab', { name })).first().click();
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 30_000 });
}

/** The page's text (the main area, without the navigation). */
async function main(): Promise<string> {
  return page.locator('main').first().innerText();
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const uiPort = await freePort();
  stack = await startRolloutStack({ uiPort });
  uiBase = `http://127.0.0.1:${uiPort}`;
  repo = join(await tempDir(), 'digits');
  const { stdout: executablePath } = await execa('scripts/browser/install.sh', { cwd: ROOT });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await traffic?.stop();
  await stack?.stop();
});

describe('the Temporal Web UI', () => {
  it('finds the waiting rollout, shows the release, and approves a canary step', async () => {
    const { env } = stack;
    traffic = await promoteFirstDigits(stack, repo, 40);

    await tagDigits(repo, 'v1.1.0', { trainArgs: ['--seed', '7'] });
    const r = await startRelease(env.client, { repo, tag: 'v1.1.0' });
    const rolloutId = rolloutWorkflowId(r.workflowId);
    await waitRollout(env.client, r.workflowId, (s) => s.awaiting?.step === 1);

    // 1. The list, filtered as the README tells operators to: the waiting rollout is there.
    await page.goto(`${uiBase}/namespaces/default/workflows?query=${encodeURIComponent('ReleaseStage="awaiting-approval"')}`);
    await page.getByRole('link', { name: rolloutId, exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('link', { name: r.workflowId, exact: true }).count()).toBe(0); // the release itself is rolling-out
    await shot('1-list-awaiting-approval');

    // 2. The release page: search attributes, memo, the step summaries (status query), child summaries.
    const release = env.client.workflow.getHandle(r.workflowId);
    await page.goto(`${uiBase}/namespaces/default/workflows/${encodeURIComponent(r.workflowId)}`);
    await openTab('Search Attributes', '"ReleaseStage"');
    const attributes = await main();
    expect(attributes).toContain('"ModelName": "digits"');
    expect(attributes).toContain('"GitTag": "v1.1.0"');
    expect(attributes).toContain('"ReleaseStage": "rolling-out"');
    await shot('2-release-search-attributes');
    const memo = String((await release.describe()).memo?.summary);
    await openTab('Memo', memo);
    await shot('2-release-memo');
    await openTab('Queries', 'Run Query');
    await page.getByTestId('query-select-button').click();
    await page.getByRole('option', { name: /^status/ }).click();
    await page.getByRole('button', { name: 'Run Query' }).click();
    const { statusQuery } = await import('../../lib/release.ts');
    const steps = (await release.query(statusQuery)).steps.filter((st) => st.summary);
    expect(steps.length).toBeGreaterThanOrEqual(3);
    await page.getByText(steps[0]!.summary!, { exact: false }).first().waitFor({ timeout: 15_000 });
    const answered = await main();
    for (const st of steps) expect(answered).toContain(st.summary);
    await shot('2-release-status-query');
    await openTab('Event History', 'digits v1.1.0: rollout of cpu-fp32');
    await shot('2-release-event-history');

    // 3. A person approves canary step 1 with the UI's Update form; the rollout moves on.
    await page.goto(`${uiBase}/namespaces/default/workflows/${encodeURIComponent(rolloutId)}`);
    await page.getByRole('button', { name: 'More Actions' }).click();
    await page.getByRole('menuitem', { name: 'Send an Update' }).click();
    await page.getByRole('button', { name: 'Select an Update' }).click();
    const approve = page.getByRole('option', { name: /^approve/ });
    expect(await approve.innerText()).toContain('Approve the canary step waiting for approval');
    await approve.click();
    await page.locator('[aria-label="Data"]:visible').click();
    await page.keyboard.insertText(JSON.stringify({ by: 'alice', step: 1, reason: 'looked fine in the Web UI' }));
    await shot('3-approve-update');
    // The first click leaves the editor, which reformats the JSON and moves the button: click
    // until the form closes (the Update runs once: the second click is the first that submits).
    const submit = page.locator('[data-testid="confirm-modal-button"]:visible');
    for (let i = 0; i < 3 && (await submit.count()) > 0; i++) {
      await submit.click();
      await page.waitForTimeout(1000);
    }
    const moved = await waitRollout(env.client, r.workflowId, (s) => s.decisions.some((d) => d.kind === 'approval' && d.by === 'alice') && s.weights.candidate === 50, 60_000);
    const approval = moved.decisions.find((d) => d.kind === 'approval')!;
    expect(approval).toMatchObject({ verdict: 'approved', by: 'alice', reason: 'looked fine in the Web UI' });
    // It came from the UI, not from the test's client (the UI sends no client identity of its own).
    expect(approval.clientIdentity).not.toBe(env.client.options.identity);
    await page.reload();
    await shot('3-after-approval');

    const done = await approveAll(env.client, r.workflowId, 'bob');
    expect(done.stage).toBe('promoted');

    // 4. The release's report, opened in the same browser: self-contained, its plots drawn.
    expect(done.report?.html.uri).toMatch(/\/packages\/digits\/v1\.1\.0\/report\.html$/);
    expect(await readFile(fileURLToPath(done.report!.markdown.uri), 'utf8')).toMatch(/^## digits v1\.1\.0: promoted/);
    await page.goto(done.report!.html.uri);
    await expect.poll(() => page.locator('svg').count()).toBeGreaterThanOrEqual(5);
    const report = await page.locator('body').innerText();
    expect(report).toContain('Rollout: promoted (stable before: v1.0.0)');
    expect(report).toContain('looked fine in the Web UI');
    await shot('4-release-report');
  }, 600_000);

  it('lists, reports and diffs those releases from the CLI', async () => {
    const cli = (...args: string[]) =>
      execa('node', ['--import', 'tsx', 'cli/index.ts', '--address', stack.env.address, ...args], { cwd: ROOT, env: { MODELSHIP_ARTIFACTS: join(stack.home, 'artifacts') } });
    const list = await cli('release', 'list', '--model', 'digits', '--stage', 'promoted');
    expect(list.stdout.split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(['digits v1.1.0 promoted', 'digits v1.0.0 promoted']);
    const out = join(stack.home, 'report.html');
    const report = await cli('release', 'report', 'digits', 'v1.1.0', '--out', out);
    expect(report.stdout).toContain(`wrote ${out}`);
    expect(await readFile(out, 'utf8')).toContain('<h2>Rollout: promoted (stable before: v1.0.0)</h2>');
    expect((await cli('release', 'report', 'digits', 'v1.1.0', '--markdown')).stdout).toMatch(/^## digits v1\.1\.0: promoted/);
    const diff = (await cli('release', 'diff', 'digits', 'v1.0.0', 'v1.1.0')).stdout.split('\n');
    expect(diff[0]).toMatch(/^\s+v1\.0\.0\s+v1\.1\.0\s+change$/);
    expect(diff.find((l) => l.startsWith('cpu-fp32 parity'))).toMatch(/pass\s+pass/);
    expect(diff.some((l) => /^cpu-fp32 batch 32 samples\/s\s+\S+\s+\S+\s+[+-][\d.]+%$/.test(l))).toBe(true);
    const missing = await cli('release', 'report', 'digits', 'v9.9.9').catch((e: { stderr: string; exitCode: number }) => e);
    expect(missing).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('no release release/digits/v9.9.9') });
  }, 120_000);
});

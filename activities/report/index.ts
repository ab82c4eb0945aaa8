/**
 * The report step: `packages/<model>/<tag>/report.html` (self-contained, plots drawn here) and
 * `report.md` beside it, written once at the end of a release from its status and its packages.
 * Deterministic in its input, so a retry writes the same bytes.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { ArtifactRef } from '../../lib/artifact-ref.ts';
import type { ReleaseReport, ReleaseStatus } from '../../lib/release.ts';
import type { ActivityDeps } from '../deps.ts';
import { withFailures } from '../failures.ts';
import { releaseFileKey } from '../keys.ts';
import { collectReportData } from './report-data.ts';
import { renderReportHtml } from './render-html.ts';
import { renderReportMarkdown } from './render-markdown.ts';
import { storeReportSources } from './store-sources.ts';

/** Builds the report activity. */
export function createReportActivities({ workspace }: ActivityDeps) {
  const json = async (ref: ArtifactRef): Promise<unknown> => JSON.parse(await readFile(await workspace.fetch(ref), 'utf8'));
  return {
    /** Writes report.html and report.md for a finished release; returns where they are. */
    async writeReleaseReport(status: ReleaseStatus): Promise<ReleaseReport> {
      return withFailures(async () => {
        const model = status.model!;
        const data = await collectReportData(status, storeReportSources(workspace.store, json, model, status.tag));
        const html = await workspace.store.putBytes(releaseFileKey(model, status.tag, 'report.html'), renderReportHtml(data));
        const markdown = await workspace.store.putBytes(releaseFileKey(model, status.tag, 'report.md'), renderReportMarkdown(data));
        return { html, markdown };
      });
    },
  };
}

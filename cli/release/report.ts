/**
 * `modelship release report <model> <tag>`: writes the release's report (report.html, or with
 * `--markdown` the summary on stdout) from the artifact store.
 *
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { openArtifactStore } from '../../activities/store/open-store.ts';
import { UserError } from '../../lib/errors.ts';
import { connectClient, temporalTarget } from '../connection.ts';
import { readReleaseStatus, readStoredText } from './read-release.ts';

/** A file name for a release's report: `<model>-<tag>-report.html`, with `/` in tags made `_`. */
export function reportFileName(model: string, tag: string): string {
  return `${model}-${tag.replace(/[^A-Za-z0-9._-]/g, '_')}-report.html`;
}

/** Adds `release report`. */
export function registerReportCommand(release: Command, program: Command): void {
  release
    .command('report <model> <tag>')
    .description("write a release's report (one self-contained HTML file with plots) from the artifact store")
    .option('--out <file>', 'where to write it (default ./<model>-<tag>-report.html)')
    .option('--markdown', 'print the Markdown summary (for a pull request) instead')
    .action(async (model: string, tag: string, opts: { out?: string; markdown?: boolean }) => {
      const client = await connectClient(temporalTarget(program.opts()));
      const status = await readReleaseStatus(client, model, tag);
      if (!status.report) {
        throw new UserError(
          `release ${status.releaseId} has no report (stage: ${status.stage})`,
          'a report is written when a release ends; releases that ended before reports existed have none',
        );
      }
      const store = openArtifactStore();
      if (opts.markdown) {
        process.stdout.write(await readStoredText(store, status.report.markdown));
        return;
      }
      const out = resolve(opts.out ?? reportFileName(model, tag));
      await store.getFile(status.report.html, out);
      console.log(`wrote ${out}\nopen ${pathToFileURL(out).href} in a browser (no network needed)`);
    });
}

/**
 * What activities need from their host, handed in by the worker (real or test-local parts).
 *
 * @module
 */
import type { ToolkitConfig } from './toolkit.ts';
import type { Workspace } from './workspace.ts';

/** Dependencies of every activity factory. */
export interface ActivityDeps {
  workspace: Workspace;
  toolkit: ToolkitConfig;
}

/**
 * The custom search attributes a release sets, so people can find releases in the Temporal UI
 * (`ModelName="digits" AND ReleaseStage="canary"`). `modelship dev` registers them.
 *
 * @module
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The model's name from the manifest. */
export const ModelNameKey = defineSearchAttributeKey('ModelName', SearchAttributeType.KEYWORD);
/** The git tag being released. */
export const GitTagKey = defineSearchAttributeKey('GitTag', SearchAttributeType.KEYWORD);
/** The release's current stage (see ReleaseStage). */
export const ReleaseStageKey = defineSearchAttributeKey('ReleaseStage', SearchAttributeType.KEYWORD);

/** Every custom search attribute with its type name, as `temporal` CLI flags want them. */
export const SEARCH_ATTRIBUTES: Readonly<Record<string, 'Keyword'>> = {
  ModelName: 'Keyword',
  GitTag: 'Keyword',
  ReleaseStage: 'Keyword',
};

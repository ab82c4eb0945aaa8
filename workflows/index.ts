/**
 * Every workflow the workers register.
 *
 * @module
 */
export { release } from './release.ts';
export { buildTarget } from './target.ts';
export { rollout } from './rollout.ts';

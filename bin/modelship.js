#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, from wherever the package is installed.
import { register } from 'tsx/esm/api';

register();
await import('../cli/index.ts');

/**
 * A client of the serving runtime's admin API (`/admin/*`, bearer token).
 *
 * @module
 */
import type { z } from 'zod';
import { UserError } from '../../lib/errors.ts';
import { formatFieldPath } from '../../lib/field-path.ts';
import {
  RuntimeFitSchema,
  RuntimeLoadedSchema,
  RuntimePromotedSchema,
  RuntimeRolledBackSchema,
  RuntimeStateSchema,
  RuntimeWeightsSchema,
  type RuntimeFit,
  type RuntimeState,
  type RuntimeVariant,
} from '../../lib/runtime-admin.ts';

export type { RuntimeFit, RuntimeState, RuntimeVariant } from '../../lib/runtime-admin.ts';

/** Where the runtime is and its admin token. */
export interface RuntimeEndpoint {
  url: string;
  token: string;
}

/** An admin call the runtime refused: status and its message. */
export class RuntimeAdminError extends Error {
  override readonly name = 'RuntimeAdminError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the runtime's admin API. */
export class RuntimeAdminClient {
  constructor(private readonly endpoint: RuntimeEndpoint) {}

  private async call<T>(schema: z.ZodType<T>, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.endpoint.url), {
        method,
        headers: { authorization: `Bearer ${this.endpoint.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (err) {
      throw new Error(`serving runtime at ${this.endpoint.url} is unreachable: ${(err as Error).message}`);
    }
    const payload = (await res.json().catch(() => ({}))) as { error?: string };
    if (res.status === 401 || res.status === 403) {
      throw new UserError(`serving runtime refused the admin token (${res.status}): ${payload.error ?? ''}`, 'set MODELSHIP_ADMIN_TOKEN (or MODELSHIP_ADMIN_TOKEN_FILE) to the runtime\'s token');
    }
    if (!res.ok) throw new RuntimeAdminError(res.status, `runtime ${method} ${path} → ${res.status}: ${payload.error ?? JSON.stringify(payload)}`);
    const reply = schema.safeParse(payload);
    if (!reply.success) {
      const issue = reply.error.issues[0]!;
      throw new RuntimeAdminError(res.status, `runtime ${method} ${path} answered outside the admin contract (lib/runtime-admin.ts): ${formatFieldPath(issue.path) || '(reply)'}: ${issue.message}`);
    }
    return reply.data;
  }

  /**
   * One model's variants and weights. The runtime serves many models; `model` may be left out only
   * while it serves one (histories recorded before it served many call so).
   */
  state(model?: string): Promise<RuntimeState> {
    return this.call(RuntimeStateSchema, 'GET', model ? `/admin/state?model=${encodeURIComponent(model)}` : '/admin/state');
  }
  /** Loads (sha256-checked, warmed) a package folder into a variant of the model it belongs to. */
  load(variant: 'stable' | 'candidate' | 'shadow', packageDir: string, model?: string): Promise<RuntimeVariant> {
    return this.call(RuntimeLoadedSchema, 'POST', '/admin/load', { variant, package: packageDir, ...(model ? { model } : {}) });
  }
  /** Sets a model's candidate weight and shadow share (percent). */
  setWeights(weights: { candidate?: number; shadow?: number }, model?: string): Promise<z.infer<typeof RuntimeWeightsSchema>> {
    return this.call(RuntimeWeightsSchema, 'POST', '/admin/weights', { ...weights, ...(model ? { model } : {}) });
  }
  /** Whether the runtime's host can serve a package with this metadata.json (the runtime applies the compatibility lock). */
  fits(metadata: { backend: string; compatibility?: unknown }): Promise<RuntimeFit> {
    return this.call(RuntimeFitSchema, 'POST', '/admin/fits', { backend: metadata.backend, ...(metadata.compatibility === undefined ? {} : { compatibility: metadata.compatibility }) });
  }
  /** The model's candidate becomes stable. */
  promote(model?: string): Promise<z.infer<typeof RuntimePromotedSchema>> {
    return this.call(RuntimePromotedSchema, 'POST', '/admin/promote', model ? { model } : {});
  }
  /** The model's candidate and shadow out; its stable keeps serving. */
  rollback(model?: string): Promise<z.infer<typeof RuntimeRolledBackSchema>> {
    return this.call(RuntimeRolledBackSchema, 'POST', '/admin/rollback', model ? { model } : {});
  }
}

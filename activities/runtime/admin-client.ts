/**
 * A client of the serving runtime's admin API (`/admin/*`, bearer token).
 *
 * @module
 */
import { UserError } from '../../lib/errors.ts';

/** One loaded variant as the runtime describes it. */
export interface RuntimeVariant {
  version: string;
  modelId: string;
  backend: string;
  packageBackend: string;
  precision: string;
  fallback: boolean;
  fallbackReason?: string | null;
  sha256: string;
  package: string;
}

/** `GET /admin/state`. */
export interface RuntimeState {
  model: string | null;
  variants: Partial<Record<'stable' | 'candidate' | 'shadow' | 'previous', RuntimeVariant>>;
  weights: { candidate: number; stable: number; shadow: number };
}

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

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
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
    return payload as T;
  }

  /**
   * One model's variants and weights. The runtime serves many models; `model` may be left out only
   * while it serves one (histories recorded before it served many call so).
   */
  state(model?: string): Promise<RuntimeState> {
    return this.call('GET', model ? `/admin/state?model=${encodeURIComponent(model)}` : '/admin/state');
  }
  /** Loads (sha256-checked, warmed) a package folder into a variant of the model it belongs to. */
  load(variant: 'stable' | 'candidate' | 'shadow', packageDir: string, model?: string): Promise<RuntimeVariant> {
    return this.call('POST', '/admin/load', { variant, package: packageDir, ...(model ? { model } : {}) });
  }
  /** Sets a model's candidate weight and shadow share (percent). */
  setWeights(weights: { candidate?: number; shadow?: number }, model?: string): Promise<unknown> {
    return this.call('POST', '/admin/weights', { ...weights, ...(model ? { model } : {}) });
  }
  /** The model's candidate becomes stable. */
  promote(model?: string): Promise<RuntimeState> {
    return this.call('POST', '/admin/promote', model ? { model } : {});
  }
  /** The model's candidate and shadow out; its stable keeps serving. */
  rollback(model?: string): Promise<RuntimeState> {
    return this.call('POST', '/admin/rollback', model ? { model } : {});
  }
}

/**
 * One job per GPU: a pool of GPU indices that engine steps take one of (waiting while all are in
 * use) and give back when done. The job then runs trtexec / the toolkit with
 * `CUDA_VISIBLE_DEVICES=<index>`, so it sees exactly that GPU.
 *
 * @module
 */

/** A GPU index held by one job; `release()` gives it back (twice is harmless). */
export interface GpuLease {
  index: number;
  release(): void;
}

/** A fixed set of GPU indices handed out one per job, first come first served. */
export class GpuSlotPool {
  private readonly free: number[];
  private readonly waiters: { resolve: (lease: GpuLease) => void; reject: (err: unknown) => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  /** @param indices - the GPUs this worker may use (physical indices, as NVML and nvidia-smi number them) */
  constructor(readonly indices: readonly number[]) {
    if (indices.length === 0) throw new Error('a GPU slot pool needs at least one GPU');
    if (new Set(indices).size !== indices.length) throw new Error(`duplicate GPU index in ${indices.join(', ')}`);
    this.free = [...indices];
  }

  /** How many GPUs are free now. */
  get available(): number {
    return this.free.length;
  }

  /** How many jobs wait for a GPU. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Takes a free GPU, waiting for one when all are busy.
   *
   * @param signal - aborting it while waiting rejects with its reason (e.g. activity cancellation)
   */
  acquire(signal?: AbortSignal): Promise<GpuLease> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    const index = this.free.shift();
    if (index !== undefined) return Promise.resolve(this.lease(index));
    return new Promise<GpuLease>((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason ?? new Error('aborted'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Runs `body` with a GPU held, giving it back however `body` ends. */
  async withGpu<T>(body: (index: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lease = await this.acquire(signal);
    try {
      return await body(lease.index);
    } finally {
      lease.release();
    }
  }

  private lease(index: number): GpuLease {
    let released = false;
    return {
      index,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) {
          if (next.signal && next.onAbort) next.signal.removeEventListener('abort', next.onAbort);
          next.resolve(this.lease(index));
        } else {
          this.free.push(index);
          this.free.sort((a, b) => this.indices.indexOf(a) - this.indices.indexOf(b));
        }
      },
    };
  }
}

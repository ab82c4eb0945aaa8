/**
 * Who really sent an approval: the Temporal client identity the server recorded with the Update
 * (or Signal) in the workflow's history. The `by` of an approval is what the caller typed; the
 * identity is what its client connected as (`user@host modelship-cli` for the CLI, the UI's user
 * for the Temporal UI with SSO). Neither is proof unless the cluster authenticates clients (mTLS or
 * an authorizer with SSO); see the README, "Who approves".
 *
 * @module
 */
import { Context } from '@temporalio/activity';

/** Which request to look for in the history. */
export interface SenderQuery {
  workflowId: string;
  runId: string;
  /** The Update's id (`currentUpdateInfo().id` in its handler). */
  updateId?: string;
  /** Else the latest Signal of this name. */
  signalName?: string;
}

/** The identity the server recorded for the Update or Signal, or null when none is found. */
export async function senderIdentity(query: SenderQuery): Promise<string | null> {
  const history = await Context.current().client.workflow.getHandle(query.workflowId, query.runId).fetchHistory();
  let found: string | null = null;
  for (const event of history.events ?? []) {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (query.updateId && accepted?.acceptedRequest?.meta?.updateId === query.updateId) return accepted.acceptedRequest.meta.identity || null;
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (query.signalName && signal?.signalName === query.signalName) found = signal.identity || null;
  }
  return found;
}

import { createHmac, randomUUID } from 'node:crypto';
import { UserError, errorMessage } from '../errors.js';

/**
 * Signed webhooks: a JSON POST whose body is signed with HMAC-SHA256 under a shared secret, so
 * the receiver knows it came from this shelfcast and was not changed or replayed. Headers:
 *
 *   X-Shelfcast-Event:     run.published | shelfcast.drift
 *   X-Shelfcast-Delivery:  a random id per delivery
 *   X-Shelfcast-Timestamp: Unix seconds when it was sent
 *   X-Shelfcast-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *
 * A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in
 * constant time, and rejects a timestamp more than a few minutes old. The secret comes from the
 * environment variable `webhook.secretEnv` names; without one the POST is sent unsigned.
 */

export const SIGNATURE_HEADER = 'x-shelfcast-signature';
export const TIMESTAMP_HEADER = 'x-shelfcast-timestamp';

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The secret `secretEnv` names; a UserError when it is named but not set (nothing should go out unsigned then). */
export function webhookSecret(secretEnv: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!secretEnv) return null;
  const v = env[secretEnv];
  if (!v) throw new UserError(`webhook.secretEnv names ${secretEnv}, which is not set in the environment; set it, or remove webhook.secretEnv to send unsigned webhooks`);
  return v;
}

/** POST `payload`, signed when there is a secret. Never throws: what went wrong is the returned text (null: delivered). */
export async function postSigned(url: string, event: string, payload: unknown, secret: string | null, now = new Date()): Promise<string | null> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-shelfcast-event': event, 'x-shelfcast-delivery': randomUUID(), [TIMESTAMP_HEADER]: timestamp };
  if (secret) headers[SIGNATURE_HEADER] = signature(secret, timestamp, body);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    return res.ok ? null : `answered ${res.status}`;
  } catch (e) {
    return `failed: ${errorMessage(e)}`;
  }
}

/** The secret of the run.published webhook, checked before a run does any work; null without a webhook. */
export function webhookSecretOf(cfg: { readonly webhook: { readonly url?: string; readonly secretEnv?: string } }): string | null {
  return cfg.webhook.url ? webhookSecret(cfg.webhook.secretEnv) : null;
}

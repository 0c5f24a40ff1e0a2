import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { startServer, type RunningServer } from '../src/server/server.js';
import { tempDir } from './helpers/tmp.js';

// DNS rebinding: a web page re-points its own domain at 127.0.0.1 and reads the tokenless
// loopback server from the victim's browser. The browser still sends the page's domain as Host.

function get(url: string, path: string, host: string | null, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const req = request(`${url}${path}`, { headers, setHost: host !== null }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    if (host !== null) req.setHeader('Host', host);
    req.on('error', reject);
    req.end();
  });
}

describe('the Host check of a tokenless server', () => {
  let open: RunningServer;
  let withTokens: RunningServer;
  let port: string;
  const TOKEN = 'host-test-token-0123456789';

  beforeAll(async () => {
    const out = tempDir();
    open = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], allowedHosts: ['planner.local'], log: () => {} });
    withTokens = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [{ name: 'erp', token: TOKEN }], log: () => {} });
    port = new URL(open.url).port;
  });

  afterAll(async () => {
    await open?.close();
    await withTokens?.close();
  });

  it('answers requests addressed to loopback names and configured ones', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LocalHost', `[::1]:${port}`, `planner.local:${port}`]) {
      expect((await get(open.url, '/health', host)).status, host).toBe(200);
    }
  });

  it('refuses any other Host with 403 and a one-line JSON error, on every path', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, `[::2]:${port}`]) {
      for (const path of ['/health', '/runs', '/', '/openapi.json']) {
        const r = await get(open.url, path, host);
        expect(r.status, `${host} ${path}`).toBe(403);
        const { error } = JSON.parse(r.body) as { error: string };
        expect(error).toContain(`host "${host}" is not allowed`);
        expect(error).not.toContain('\n');
      }
    }
    // Node itself refuses an HTTP/1.1 request without Host.
    expect((await get(open.url, '/health', null)).status).toBe(400);
  });

  it('leaves the Host alone when tokens guard the server', async () => {
    const r = await get(withTokens.url, '/runs', 'forecast-host.example:8080', TOKEN);
    expect(r.status).toBe(200);
  });
});

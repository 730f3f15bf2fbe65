/**
 * An app's server for the e2e specs that bring their own page: `page` at /, the browser bundle
 * (dist/browser) under /drpc/, on 127.0.0.1 (a page Playwright made up would have no address, and
 * Chromium blocks such a page from reaching a local port). Other paths go to `other`, else 404.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Page } from '@playwright/test';
import type { Endpoint } from '../../adapters/node/endpoint.ts';

export async function serveApp(page: string, other?: RequestListener): Promise<{ server: Server; url: string }> {
  const bundle = join(process.cwd(), 'dist/browser');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    if (!path.startsWith('/drpc/') && other) return other(req, res);
    const file = normalize(join(bundle, path.replace(/^\/drpc\//, '/')));
    if (!path.startsWith('/drpc/') || !file.startsWith(bundle) || extname(file) !== '.js') return void res.writeHead(404).end();
    readFile(file).then(
      (js) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(js),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
}

/** An app served with `ep` on /rpc (WebSocket and the HTTP fallback); `close()` ends both. */
export async function serveAppWith(ep: Endpoint, page: string): Promise<{ url: string; rpcUrl: string; close(): Promise<void> }> {
  const { server, url } = await serveApp(page, (req, res) => ep.handleRequest(req, res, '/rpc') || res.writeHead(404).end());
  ep.attach(server, { path: '/rpc' });
  return {
    url,
    rpcUrl: new URL('/rpc', url).href.replace(/^http/, 'ws'),
    async close() {
      await ep.close({ drain: 0 });
      await new Promise((r) => server.close(r));
    },
  };
}

/** Opens `url` in `page`; the page's uncaught errors are collected in the array returned. */
export async function openPage(page: Page, url: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return errors;
}

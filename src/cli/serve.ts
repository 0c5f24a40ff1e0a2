import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load.js';
import { startServer } from '../server/server.js';
import { commandLog } from './progress.js';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`port must be a whole number from 0 to 65535, got "${v}"`);
  return n;
};

/** Resolves on the first SIGINT or SIGTERM, so the server can finish what is in flight. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** `shelfcast serve`: the HTTP API and planner page over an output folder. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve published runs over HTTP (API for ERP/IBP pulls, planner page at /) until SIGINT/SIGTERM')
    .option('-c, --config <file>', 'JSON config file (server.host, server.port, server.tokens); flags override it')
    .option('-o, --out <dir>', 'output folder holding runs/ and latest (default: ./shelfcast-out)')
    .option('--port <n>', 'TCP port (default: 8080; 0 picks a free one)', port)
    .option('--host <addr>', 'address to listen on (default: 127.0.0.1; other addresses need API tokens)')
    .option('--allow-host <name...>', 'without tokens, also answer requests addressed to these host names (default: loopback names only)')
    .addHelpText('after', `
Tokens: SHELFCAST_API_TOKEN=<secret> allows every route; server.tokens in the config lists
named tokens (inline or by environment variable) limited to route prefixes if wanted.
Clients send "Authorization: Bearer <token>". With no token configured the server listens on
loopback only and answers only requests addressed to localhost, 127.0.0.1 or [::1] (and the
names given with --allow-host), so a web page cannot reach it through DNS rebinding.`)
    .action(async (o: { config?: string; out?: string; port?: number; host?: string; allowHost?: string[] }) => {
      const cfg = loadConfig(o.config, { out: o.out, 'server.port': o.port, 'server.host': o.host, 'server.allowedHosts': o.allowHost });
      const log = commandLog();
      // The banner's lines go to the command's log; its warning about tokens as a warning.
      const line = (text: string): void => (/WARNING|NO API TOKENS|SHELFCAST_API_TOKEN or server\.tokens/.test(text) ? log.warn(text.trim()) : log.info(text.trim()));
      const server = await startServer({ out: cfg.out, host: cfg.server.host, port: cfg.server.port, tokens: cfg.server.tokens, allowedHosts: cfg.server.allowedHosts, log: line });
      const signal = await stopSignal();
      log.info(`shelfcast serve: ${signal}: finishing requests in flight`);
      await server.close();
      log.info('shelfcast serve: stopped');
    });
}

import { basename } from 'node:path';
import type { forecastingSettings } from '../run/run-id.js';

/**
 * Published files are served to anyone with a token, so they name the files a run read
 * without the server's folders: the file name, which is what the people loading the files
 * know it by. Full paths stay in the registry (state.duckdb, not served) for `explain`.
 */
export function publishedName(path: string): string {
  return basename(path);
}

type Settings = ReturnType<typeof forecastingSettings>;

/** The run's settings as the manifest shows them: every file path reduced to its name. */
export function publishedSettings(s: Settings): Settings {
  const name = (p: string | undefined): string | undefined => (p === undefined ? undefined : publishedName(p));
  const { calendars: c, input } = s;
  return {
    ...s,
    input: { ...input, path: name(input.path) },
    calendars: { ...c, stores: name(c.stores), items: name(c.items), events: name(c.events), dir: name(c.dir) },
  };
}


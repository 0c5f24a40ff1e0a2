import { basename } from 'node:path';

/**
 * Published files are served to anyone with a token, so they name the files a run read
 * without the server's folders: the file name, which is what the people loading the files
 * know it by. Full paths stay in the registry (state.duckdb, not served) for `explain`.
 */
export function publishedName(path: string): string {
  return basename(path);
}

/** The settings that name files: the sales input, its future and new-items files, and the calendar files. */
interface FileSettings {
  readonly input: { readonly path?: string; readonly future?: string; readonly newItems?: string };
  readonly calendars: { readonly stores?: string; readonly items?: string; readonly events?: string; readonly dir?: string };
}

/** The run's settings as the manifest shows them: every file path reduced to its name. */
export function publishedSettings<S extends FileSettings>(s: S): S {
  const name = (p: string | undefined): string | undefined => (p === undefined ? undefined : publishedName(p));
  const { calendars: c, input } = s;
  return {
    ...s,
    input: { ...input, path: name(input.path), future: name(input.future), newItems: name(input.newItems) },
    calendars: { ...c, stores: name(c.stores), items: name(c.items), events: name(c.events), dir: name(c.dir) },
  };
}

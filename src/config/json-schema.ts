import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/**
 * The JSON Schema of shelfcast.json (schema/shelfcast.schema.json), generated from the zod
 * schema so the two cannot disagree; `npm run schema` writes it and test/package.test.ts
 * checks it is current. Each key documented in the README's config table gets that row's
 * meaning as its description, for editors.
 */

type Node = { type?: string; properties?: Record<string, Node>; description?: string; [k: string]: unknown };

/** The README's config table: key → meaning. A row like `a.b` / `.c` documents `a.b` and `a.c`. */
export function readmeConfigKeys(readme: string): Map<string, string> {
  const keys = new Map<string, string>();
  const start = readme.indexOf('| key | default | meaning |');
  if (start < 0) return keys;
  for (const line of readme.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const names = [...cells[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    let base: string[] = [];
    for (const name of names) {
      const path = name.startsWith('.') ? [...base.slice(0, -1), name.slice(1)] : name.split('.');
      base = path;
      keys.set(path.join('.'), `${cells[2]} (default: ${cells[1]})`.replaceAll('\\|', '|'));
    }
  }
  return keys;
}

/** Every key of the schema, dotted: objects with properties are walked, everything else is a leaf. */
export function schemaKeys(node: Node, prefix = ''): { key: string; leaf: boolean }[] {
  const out: { key: string; leaf: boolean }[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (name === '$schema') continue;
    const key = prefix ? `${prefix}.${name}` : name;
    const leaf = child.properties === undefined;
    out.push({ key, leaf });
    if (!leaf) out.push(...schemaKeys(child, key));
  }
  return out;
}

export function configJsonSchema(readme = ''): Node {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Node;
  const descriptions = readmeConfigKeys(readme);
  for (const [key, description] of descriptions) {
    let node: Node | undefined = schema;
    for (const part of key.split('.')) node = node?.properties?.[part];
    if (node) node.description = description;
  }
  return {
    $schema: schema.$schema,
    $id: 'https://shelfcast.invalid/schema/shelfcast.schema.json',
    title: 'shelfcast.json',
    description: 'shelfcast configuration: every key has a default; command-line flags override the file.',
    ...schema,
    properties: { $schema: { type: 'string', description: 'Path or URL of this schema, for editors (ignored by shelfcast).' }, ...schema.properties },
  };
}

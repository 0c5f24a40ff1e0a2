// Writes schema/shelfcast.schema.json from the zod config schema (run `npm run schema` after
// changing src/config/schema.ts or the README's config table; test/package.test.ts checks it).
import { readFileSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../dist/src/config/json-schema.js';

const root = new URL('..', import.meta.url);
const schema = configJsonSchema(readFileSync(new URL('README.md', root), 'utf8'));
writeFileSync(new URL('schema/shelfcast.schema.json', root), JSON.stringify(schema, null, 2) + '\n');

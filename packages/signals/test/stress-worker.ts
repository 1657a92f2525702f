/**
 * One Baton process of the stress test: runs the background matcher and publishers `first..last`
 * of the plan, each sending its share in small batches. Prints `published` when its publishers
 * are done and keeps matching until SIGTERM.
 */
import { PgDb } from '@baton/engine-core';
import { SignalService } from '../src/service.js';
import { TableStarter, testExpressions } from './helpers.js';
import { mulberry32 } from '../../../test/support/rng.js';
import { publisherShare, stressSignals } from './stress-plan.js';

const [url, firstArg, lastArg] = process.argv.slice(2);
if (!url || firstArg === undefined || lastArg === undefined) throw new Error('usage: stress-worker <db-url> <first-publisher> <last-publisher>');
const db = new PgDb({ connectionString: url, max: 8, applicationName: `stress-${process.pid}` });
const svc = new SignalService(db, { starter: new TableStarter(), expressions: testExpressions, matchBatchSize: 200 });
await svc.start();

const all = stressSignals();
async function publisher(p: number): Promise<void> {
  const rnd = mulberry32(1000 + p + process.pid);
  const share = publisherShare(all, p);
  for (let i = 0; i < share.length; ) {
    const n = 1 + Math.floor(rnd() * 25);
    const batch = share.slice(i, i + n);
    for (;;) {
      try {
        await svc.publish(batch);
        break;
      } catch (err) {
        console.error('publish failed, retrying:', err);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    i += n;
  }
}
const ids: number[] = [];
for (let p = Number(firstArg); p <= Number(lastArg); p++) ids.push(p);
await Promise.all(ids.map(publisher));
console.log('published');

process.on('SIGTERM', () => {
  void svc.stop().then(() => db.close()).then(() => process.exit(0));
});

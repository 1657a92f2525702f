import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, PgDb, PGliteDb, type Db, type Queryable } from '@baton/engine-core';
import { createTestDatabase } from '../../../../test/setup/infra.js';

/**
 * One behavioural contract for both storage implementations: everything here must hold on the
 * embedded PGlite and on a real PostgreSQL server, because packages write SQL once for both.
 */
interface Impl {
  name: string;
  open(): Promise<{ db: Db; cleanup(): Promise<void> }>;
}

const impls: Impl[] = [
  {
    name: 'PGlite (in memory)',
    async open() {
      const db = await PGliteDb.open({});
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const database = await createTestDatabase();
      const db = new PgDb({ connectionString: database.url, applicationName: 'baton-contract-test' });
      return {
        db,
        async cleanup() {
          await db.close();
          await database.drop();
        },
      };
    },
  },
];

let tmpRoot: string;
beforeAll(async () => {
  tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'baton-migrations-'));
});
afterAll(async () => {
  await rm(tmpRoot, { recursive: true, force: true });
});

let dirCounter = 0;
/** Writes a folder of migration files and returns a source with a package name unique to the test. */
async function migrationDir(files: Record<string, string>): Promise<{ pkg: string; dir: string }> {
  const n = ++dirCounter;
  const dir = path.join(tmpRoot, `m${n}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(dir, { recursive: true });
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return { pkg: `test-pkg-${n}`, dir };
}

async function tableExists(db: Db, name: string): Promise<boolean> {
  const res = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]);
  return res.rows[0]?.t != null;
}

async function recorded(db: Db, pkg: string): Promise<Array<{ version: number; name: string }>> {
  const res = await db.query<{ version: number; name: string }>(
    'SELECT version, name FROM baton_migrations WHERE pkg = $1 ORDER BY version',
    [pkg],
  );
  return res.rows;
}

describe.each(impls)('Db contract: $name', (impl) => {
  let db: Db;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ db, cleanup } = await impl.open());
    await db.exec(`
      CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER, big BIGINT, doc JSONB, at TIMESTAMPTZ, flag BOOLEAN);
    `);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  describe('queries', () => {
    it('binds $n parameters as values, never as SQL', async () => {
      const hostile = "x'); DROP TABLE items; --";
      await db.query('INSERT INTO items (name, qty, flag) VALUES ($1, $2, $3)', [hostile, 3, true]);
      const res = await db.query<{ name: string; qty: number; flag: boolean }>('SELECT name, qty, flag FROM items WHERE name = $1', [hostile]);
      expect(res.rows).toEqual([{ name: hostile, qty: 3, flag: true }]);
      expect(await tableExists(db, 'items')).toBe(true);
    });

    it('binds null, reuses a parameter and accepts array parameters', async () => {
      await db.query('INSERT INTO items (name, qty) VALUES ($1, $2), ($3, $2)', ['p-null-1', null, 'p-null-2']);
      const res = await db.query<{ name: string; qty: number | null }>(
        'SELECT name, qty FROM items WHERE name = ANY($1::text[]) ORDER BY name',
        [['p-null-1', 'p-null-2', 'absent']],
      );
      expect(res.rows).toEqual([
        { name: 'p-null-1', qty: null },
        { name: 'p-null-2', qty: null },
      ]);
    });

    it('reports affected rows for writes', async () => {
      await db.query("INSERT INTO items (name, qty) VALUES ('rc-1', 1), ('rc-2', 1), ('rc-3', 2)");
      const upd = await db.query("UPDATE items SET qty = qty + 10 WHERE name LIKE 'rc-%' AND qty = 1");
      expect(upd.rowCount).toBe(2);
      const del = await db.query("DELETE FROM items WHERE name LIKE 'rc-%'");
      expect(del.rowCount).toBe(3);
    });

    it('rejects invalid SQL with the server error', async () => {
      await expect(db.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
      await expect(db.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    });
  });

  describe('int8', () => {
    const cases: Array<[string, number | bigint]> = [
      ['zero', 0],
      ['max safe', Number.MAX_SAFE_INTEGER],
      ['min safe', Number.MIN_SAFE_INTEGER],
      ['2^53', 2n ** 53n],
      ['-(2^53)', -(2n ** 53n)],
      ['int8 max', 9_223_372_036_854_775_807n],
      ['int8 min', -9_223_372_036_854_775_808n],
    ];
    it.each(cases)('round-trips %s as the right JS type', async (label, value) => {
      const name = `int8-${label}`;
      await db.query('INSERT INTO items (name, big) VALUES ($1, $2)', [name, value]);
      const res = await db.query<{ big: number | bigint }>('SELECT big FROM items WHERE name = $1', [name]);
      expect(res.rows[0]?.big).toStrictEqual(value);
    });

    it('returns numbers for safe BIGINT expressions and bigints beyond 2^53', async () => {
      const res = await db.query<{ a: unknown; b: unknown; c: unknown; n: unknown }>(
        'SELECT 42::int8 AS a, 9007199254740993::int8 AS b, $1::int8 + 1 AS c, count(*) AS n FROM (VALUES (1), (2)) v(x)',
        [9_007_199_254_740_992n],
      );
      expect(res.rows[0]).toStrictEqual({ a: 42, b: 9_007_199_254_740_993n, c: 9_007_199_254_740_993n, n: 2 });
    });

    it('serial ids come back as numbers', async () => {
      const res = await db.query<{ id: unknown }>("INSERT INTO items (name) VALUES ('serial-id') RETURNING id");
      expect(typeof res.rows[0]?.id).toBe('number');
    });
  });

  describe('jsonb', () => {
    it('stores objects and returns them parsed', async () => {
      const doc = { s: 'héllo "quoted"', n: 1.5, neg: -3, b: false, z: null, list: [1, 'two', { three: 3 }], nested: { deep: { deeper: [] } } };
      await db.query('INSERT INTO items (name, doc) VALUES ($1, $2)', ['json-1', doc]);
      const res = await db.query<{ doc: unknown }>('SELECT doc FROM items WHERE name = $1', ['json-1']);
      expect(res.rows[0]?.doc).toEqual(doc);
    });

    it('queries inside documents with parameters', async () => {
      await db.query('INSERT INTO items (name, doc) VALUES ($1, $2)', ['json-2', { kind: 'order', total: 12 }]);
      const res = await db.query<{ name: string; total: number }>(
        "SELECT name, (doc->>'total')::int AS total FROM items WHERE doc->>'kind' = $1 AND doc @> $2::jsonb",
        ['order', JSON.stringify({ total: 12 })],
      );
      expect(res.rows).toEqual([{ name: 'json-2', total: 12 }]);
    });

    it('accepts a JSON string for top-level arrays and scalars', async () => {
      const res = await db.query<{ a: unknown; s: unknown }>('SELECT $1::jsonb AS a, $2::jsonb AS s', [JSON.stringify([1, { x: 2 }]), JSON.stringify('text')]);
      expect(res.rows[0]).toEqual({ a: [1, { x: 2 }], s: 'text' });
    });
  });

  describe('timestamptz', () => {
    it('round-trips Date values to the millisecond', async () => {
      const at = new Date('2024-02-29T23:59:59.123Z');
      await db.query('INSERT INTO items (name, at) VALUES ($1, $2)', ['ts-1', at]);
      const res = await db.query<{ at: Date }>('SELECT at FROM items WHERE name = $1', ['ts-1']);
      expect(res.rows[0]?.at).toBeInstanceOf(Date);
      expect(res.rows[0]?.at.getTime()).toBe(at.getTime());
    });

    it('parses ISO strings with offsets and compares instants', async () => {
      const res = await db.query<{ at: Date; same: boolean }>(
        "SELECT $1::timestamptz AS at, $1::timestamptz = '2024-06-01T10:00:00Z'::timestamptz AS same",
        ['2024-06-01T12:00:00+02:00'],
      );
      expect(res.rows[0]?.at.toISOString()).toBe('2024-06-01T10:00:00.000Z');
      expect(res.rows[0]?.same).toBe(true);
    });

    it('now() is a Date close to the local clock', async () => {
      const res = await db.query<{ now: Date }>('SELECT now() AS now');
      expect(res.rows[0]?.now).toBeInstanceOf(Date);
      expect(Math.abs(res.rows[0]!.now.getTime() - Date.now())).toBeLessThan(60_000);
    });
  });

  describe('transactions', () => {
    it('commits every write and returns the callback result', async () => {
      const out = await db.tx(async (tx) => {
        await tx.query('INSERT INTO items (name) VALUES ($1)', ['tx-c-1']);
        await tx.query('INSERT INTO items (name) VALUES ($1)', ['tx-c-2']);
        const inside = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE name LIKE 'tx-c-%'");
        return inside.rows[0]?.n;
      });
      expect(out).toBe(2);
      const res = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE name LIKE 'tx-c-%'");
      expect(res.rows[0]?.n).toBe(2);
    });

    it('rolls back everything when the callback throws, and rethrows the same error', async () => {
      const boom = new Error('boom');
      await expect(
        db.tx(async (tx) => {
          await tx.query('INSERT INTO items (name) VALUES ($1)', ['tx-r-1']);
          await tx.query("UPDATE items SET qty = 999 WHERE name = 'tx-c-1'");
          throw boom;
        }),
      ).rejects.toBe(boom);
      const res = await db.query<{ name: string; qty: number | null }>("SELECT name, qty FROM items WHERE name IN ('tx-r-1', 'tx-c-1')");
      expect(res.rows).toEqual([{ name: 'tx-c-1', qty: null }]);
    });

    it('rolls back when a statement fails and leaves the Db usable', async () => {
      await expect(
        db.tx(async (tx) => {
          await tx.query('INSERT INTO items (name) VALUES ($1)', ['tx-f-1']);
          await tx.query('INSERT INTO items (name) VALUES ($1)', ['tx-c-1']);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect((await db.query("SELECT 1 FROM items WHERE name = 'tx-f-1'")).rows).toEqual([]);
      const again = await db.tx(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one);
      expect(again).toBe(1);
    });
  });

  it('surfaces unique violations with SQLSTATE 23505', async () => {
    await db.query('INSERT INTO items (name) VALUES ($1)', ['uniq-1']);
    const err = await db.query('INSERT INTO items (name) VALUES ($1)', ['uniq-1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: '23505' });
  });

  describe('exec', () => {
    it('runs multi-statement scripts', async () => {
      await db.exec(`
        CREATE TABLE exec_a (id INTEGER PRIMARY KEY, label TEXT);
        INSERT INTO exec_a VALUES (1, 'one;still one');
        INSERT INTO exec_a VALUES (2, 'two');
        -- a comment; with a semicolon
        UPDATE exec_a SET label = upper(label) WHERE id = 2;
      `);
      const res = await db.query<{ id: number; label: string }>('SELECT id, label FROM exec_a ORDER BY id');
      expect(res.rows).toEqual([
        { id: 1, label: 'one;still one' },
        { id: 2, label: 'TWO' },
      ]);
    });

    it('rejects a script with an error', async () => {
      await expect(db.exec('CREATE TABLE exec_b (id INTEGER); INSERT INTO exec_b VALUES (1); INSERT INTO nope VALUES (1);')).rejects.toMatchObject({
        code: '42P01',
      });
    });
  });

  describe('migrate', () => {
    it('applies pending migrations once, in numeric order, and records them', async () => {
      const src = await migrationDir({
        '0002_add_col.sql': 'ALTER TABLE mig_t ADD COLUMN extra TEXT;\nINSERT INTO mig_log (step) VALUES (2);\n',
        '0001_create.sql': '-- the base table\nCREATE TABLE mig_t (id INTEGER PRIMARY KEY);\nCREATE TABLE mig_log (step INTEGER NOT NULL);\nINSERT INTO mig_log (step) VALUES (1);\n',
        '0010_later.sql': 'INSERT INTO mig_log (step) VALUES (10);',
        'README.md': 'not a migration',
      });
      const applied = await migrate(db, [src]);
      expect(applied.map((m) => [m.version, m.name])).toEqual([
        [1, 'create'],
        [2, 'add_col'],
        [10, 'later'],
      ]);
      expect((await db.query('SELECT step FROM mig_log ORDER BY step')).rows).toEqual([{ step: 1 }, { step: 2 }, { step: 10 }]);
      expect(await recorded(db, src.pkg)).toEqual([
        { version: 1, name: 'create' },
        { version: 2, name: 'add_col' },
        { version: 10, name: 'later' },
      ]);
      const at = await db.query<{ applied_at: Date }>('SELECT applied_at FROM baton_migrations WHERE pkg = $1', [src.pkg]);
      for (const row of at.rows) expect(row.applied_at).toBeInstanceOf(Date);

      expect(await migrate(db, [src])).toEqual([]);
      expect((await db.query('SELECT step FROM mig_log ORDER BY step')).rows).toHaveLength(3);

      await writeFile(path.join(src.dir, '0011_more.sql'), 'INSERT INTO mig_log (step) VALUES (11);\n');
      expect((await migrate(db, [src])).map((m) => m.version)).toEqual([11]);
      expect((await recorded(db, src.pkg)).map((r) => r.version)).toEqual([1, 2, 10, 11]);
    });

    it('applies sources in the order given and numbers each package separately', async () => {
      const a = await migrationDir({ '0001_a.sql': 'CREATE TABLE src_order (pkg TEXT, at SERIAL);\nINSERT INTO src_order (pkg) VALUES (\'a\');\n' });
      const b = await migrationDir({ '0001_b.sql': "INSERT INTO src_order (pkg) VALUES ('b');\n" });
      const applied = await migrate(db, [a, b]);
      expect(applied.map((m) => `${m.pkg}:${m.version}`)).toEqual([`${a.pkg}:1`, `${b.pkg}:1`]);
      expect((await db.query('SELECT pkg FROM src_order ORDER BY at')).rows).toEqual([{ pkg: 'a' }, { pkg: 'b' }]);
    });

    it.each([
      ['no version', 'create.sql'],
      ['dash separator', '0001-create.sql'],
      ['space in name', '0001_bad name.sql'],
      ['no name', '0001.sql'],
    ])('rejects bad file names (%s) before applying anything', async (_label, bad) => {
      const src = await migrationDir({ '0001_fine.sql': 'CREATE TABLE bad_name_guard (id INTEGER);\n', [bad]: 'SELECT 1;\n' });
      await expect(migrate(db, [src])).rejects.toThrow(/must look like 0001_name\.sql/);
      expect(await recorded(db, src.pkg)).toEqual([]);
    });

    it('rejects two files with the same version', async () => {
      const src = await migrationDir({ '0001_one.sql': 'SELECT 1;\n', '001_other.sql': 'SELECT 2;\n' });
      await expect(migrate(db, [src])).rejects.toThrow(/share version 1/);
      expect(await recorded(db, src.pkg)).toEqual([]);
    });

    it('rolls back a failing migration, does not record it, and applies it once fixed', async () => {
      const src = await migrationDir({
        '0001_ok.sql': 'CREATE TABLE fail_ok (id INTEGER);\n',
        '0002_broken.sql': 'CREATE TABLE fail_half (id INTEGER);\nINSERT INTO fail_missing VALUES (1);\n',
        '0003_after.sql': 'CREATE TABLE fail_after (id INTEGER);\n',
      });
      await expect(migrate(db, [src])).rejects.toMatchObject({ code: '42P01' });
      expect(await recorded(db, src.pkg)).toEqual([{ version: 1, name: 'ok' }]);
      expect(await tableExists(db, 'fail_ok')).toBe(true);
      expect(await tableExists(db, 'fail_half')).toBe(false);
      expect(await tableExists(db, 'fail_after')).toBe(false);

      await writeFile(path.join(src.dir, '0002_broken.sql'), 'CREATE TABLE fail_half (id INTEGER);\n');
      expect((await migrate(db, [src])).map((m) => m.version)).toEqual([2, 3]);
      expect(await tableExists(db, 'fail_half')).toBe(true);
      expect(await tableExists(db, 'fail_after')).toBe(true);
    });
  });
});

describe('PGlite: concurrent transactions', () => {
  let db: PGliteDb;
  beforeAll(async () => {
    db = await PGliteDb.open({});
    await db.exec('CREATE TABLE steps (seq SERIAL PRIMARY KEY, who TEXT NOT NULL)');
  });
  afterAll(async () => {
    await db.close();
  });

  it('run one after the other, never interleaving statements', async () => {
    const body = (who: string) => async (tx: Queryable) => {
      for (let i = 0; i < 3; i++) {
        await tx.query('INSERT INTO steps (who) VALUES ($1)', [who]);
        // Yield to the event loop so another transaction would get a turn if it could.
        await new Promise((r) => setTimeout(r, 5));
      }
      return who;
    };
    const outside = (async () => {
      await new Promise((r) => setTimeout(r, 2));
      await db.query("INSERT INTO steps (who) VALUES ('outside')");
    })();
    const results = await Promise.all([db.tx(body('a')), db.tx(body('b')), db.tx(body('c')), outside]);
    expect(results.slice(0, 3)).toEqual(['a', 'b', 'c']);
    const order = (await db.query<{ who: string }>('SELECT who FROM steps ORDER BY seq')).rows.map((r) => r.who);
    expect(order).toHaveLength(10);
    // Collapse runs: each transaction must appear as one contiguous block of three.
    const blocks = order.filter((w, i) => i === 0 || order[i - 1] !== w);
    expect(blocks.filter((w) => w !== 'outside').sort()).toEqual(['a', 'b', 'c']);
    for (const who of ['a', 'b', 'c']) expect(order.filter((w) => w === who)).toHaveLength(3);
  });
});

describe('PostgreSQL: concurrent transactions', () => {
  let db: Db;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await impls[1]!.open());
    await db.exec('CREATE TABLE iso (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)');
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('run on separate connections and do not see each other before commit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    const writer = db.tx(async (tx) => {
      await tx.query('INSERT INTO iso VALUES (1, 1)');
      inserted();
      await gate;
    });
    await insertedP;
    const seenDuring = await db.tx(async (tx) => (await tx.query('SELECT * FROM iso')).rows.length);
    release();
    await writer;
    const seenAfter = (await db.query('SELECT * FROM iso')).rows.length;
    expect([seenDuring, seenAfter]).toEqual([0, 1]);
  });
});

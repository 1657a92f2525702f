import os from 'node:os';

/**
 * The PostgreSQL settings docs/operations.md recommends for a server that Baton has to itself
 * (see "PostgreSQL settings" there), for a machine with `memoryBytes` of RAM. The growth benchmark
 * runs its throwaway server with them: measuring 20M stored signals on the defaults (128 MB of
 * shared_buffers, a checkpoint every 1 GB of WAL) measures an untuned server, not Baton.
 */
export function recommendedSettings(memoryBytes: number = os.totalmem()): Record<string, string> {
  const mb = Math.floor(memoryBytes / 1024 / 1024);
  return {
    // A quarter of the RAM: the hot indexes (the dedupe keys, the newest partitions) stay cached.
    shared_buffers: `${Math.max(128, Math.floor(mb / 4))}MB`,
    // What the planner may assume the OS caches on top (shared_buffers included).
    effective_cache_size: `${Math.max(512, Math.floor((mb * 3) / 4))}MB`,
    maintenance_work_mem: `${Math.min(1024, Math.max(64, Math.floor(mb / 32)))}MB`,
    // Checkpoints by time, not by every 1 GB of WAL an ingest burst writes, spread over 90% of
    // the interval: fewer, smoother flushes and fewer full-page images in the WAL.
    max_wal_size: '8GB',
    min_wal_size: '1GB',
    checkpoint_timeout: '15min',
    checkpoint_completion_target: '0.9',
    // SSD storage: a random page costs about what a sequential one does.
    random_page_cost: '1.1',
    effective_io_concurrency: '200',
    // Baton's sessions turn JIT off themselves (PgDb); this covers other clients' short queries.
    jit: 'off',
    log_checkpoints: 'on',
  };
}

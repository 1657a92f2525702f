export type { ManagedServer } from './server.js';
export { startPostgres, ensurePostgres, installPostgres, findPostgresBinaries, createDatabase, type PostgresServer, type StartPostgresOptions, type Database } from './postgres.js';
export { startKafka, ensureKafkaJars, KAFKA_VERSION, type KafkaServer, type StartKafkaOptions, type KafkaJars } from './kafka.js';
export { startSns, ensureMotoVenv, MOTO_VERSION, type SnsServer, type StartSnsOptions, type MotoVenv } from './sns.js';
export { freePort } from './proc.js';
export { repoRoot, cacheRoot } from './paths.js';
export { ensureBuilt } from './build.js';

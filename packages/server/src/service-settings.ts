// The service settings' names and meanings, kept apart from their parsing so `baton serve --help`
// can list them without loading the domain packages.
export const SERVICE_SETTINGS: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'BATON_CONFIG', description: 'JSON or YAML file with Kafka/SNS sources, CloudEvents mapping and outbound sinks (alias BATON_SOURCES_CONFIG)' },
  { name: 'BATON_KAFKA_BROKERS', description: 'comma-separated Kafka brokers; replaces kafka.brokers of the config file' },
  { name: 'BATON_SNS_VERIFY_SIGNATURES', description: 'true (default) or false: verify SNS message signatures' },
  { name: 'BATON_HTTP_ALLOWED_HOSTS', description: 'comma-separated hosts Http steps may call (api.example.com, *.example.com, host:8080); default none' },
  { name: 'BATON_SHELL_STEPS', description: '1 enables Shell steps (they run programs as this user); default 0' },
  { name: 'BATON_STEP_LOG_BYTES', description: 'bytes of stdout and of stderr kept per Shell step attempt (the first and the last half), e.g. 1048576, 512KiB, 4MiB; default 1MiB' },
  { name: 'BATON_STEP_HTTP_BODY_BYTES', description: 'bytes of an Http step\'s response body kept with the attempt; default 64KiB' },
  { name: 'BATON_TIME_SCALE', description: 'factor applied to Sleep waits, e.g. 0.01 in tests; default 1' },
  { name: 'BATON_ENGINE_CONCURRENCY', description: 'engine jobs run at once by this process (1-1000); default 32' },
  { name: 'BATON_SEL_TIMEOUT', description: 'wall-clock limit of one SEL evaluation (params, conditions, validators): milliseconds or 500ms, 5s; 0 = none; default 5s' },
  { name: 'BATON_SEL_WORKERS', description: 'worker threads evaluating SEL programs that may run long (1-64); default: the cores, 2 to 4' },
  { name: 'BATON_SEL_QUEUE_LIMIT', description: 'SEL evaluations that may wait for a worker before more are refused (1-100000); default 1000' },
  { name: 'BATON_PARAM_VALIDATORS', description: "enforce (default): values failing a param's validator fail the start, run or step; ignore: keep validators unchecked, as Maestro does" },
  { name: 'BATON_REQUIRE_OWNER', description: "1 (default) refuses a workflow's first version without properties.owner, as Maestro does; 0 accepts it (a deviation from Maestro)" },
  { name: 'BATON_MIN_TRIGGER_INTERVAL', description: 'shortest allowed spacing of a time trigger\'s fire times, seconds or a duration (30s, 5m); pushes of faster crons are refused; default 1m' },
  { name: 'BATON_SIGNAL_RETENTION', description: 'how long signal instances are kept (a duration such as 30d, 12h, P7D; at least 1h), or forever; default 30d' },
  { name: 'BATON_SIGNAL_RETENTION_BY_NAME', description: 'JSON object of signal name to retention, e.g. {"orders/created": "7d", "audit/log": "forever"}; other names use BATON_SIGNAL_RETENTION' },
  { name: 'BATON_RUN_RETENTION', description: 'how long a finished run (its restart chain, children and iterations) is kept after it ended: a duration (90d, 12h, P30D, at least 1h) or forever; default forever' },
  { name: 'BATON_RETENTION_INTERVAL', description: 'time between retention passes (create partitions ahead, drop expired ones), 10s to 1d; default 1h' },
  { name: 'BATON_TEST_RETENTION_CLOCK_OFFSET', description: 'TEST ONLY: retention passes run this far (a duration, up to 30d) ahead of the clock, so partitions are dropped within a test run (the chaos harness); never set it in production' },
];

-- What a step attempt's process printed (Shell steps: stdout and stderr) and what an Http step's
-- server answered. Written while the step runs, in chunks, so a reader can follow the output and
-- a process killed mid-step keeps what was written before.

-- Per attempt and stream: bytes the process wrote (`total_bytes`, the offset of the next byte) and
-- bytes kept (`stored_bytes`); the difference was dropped from the middle (the head and the tail
-- are kept). `closed_at` is set when the writer finished.
CREATE TABLE IF NOT EXISTS baton_step_logs (
  attempt_pk BIGINT NOT NULL REFERENCES baton_step_attempts (id),
  stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  total_bytes BIGINT NOT NULL DEFAULT 0,
  stored_bytes BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  closed_at TIMESTAMPTZ,
  PRIMARY KEY (attempt_pk, stream)
);

-- The kept bytes; `byte_offset` is the position of the chunk's first byte in the stream as the
-- process wrote it, so offsets stay stable when the middle is dropped.
CREATE TABLE IF NOT EXISTS baton_step_log_chunks (
  attempt_pk BIGINT NOT NULL,
  stream TEXT NOT NULL,
  byte_offset BIGINT NOT NULL,
  data BYTEA NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (attempt_pk, stream, byte_offset),
  FOREIGN KEY (attempt_pk, stream) REFERENCES baton_step_logs (attempt_pk, stream)
);

-- An Http step's last response: status, headers and the head of the body (bounded).
CREATE TABLE IF NOT EXISTS baton_step_http_responses (
  attempt_pk BIGINT PRIMARY KEY REFERENCES baton_step_attempts (id),
  method TEXT NOT NULL,
  url TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  status_text TEXT NOT NULL DEFAULT '',
  headers JSONB NOT NULL DEFAULT '{}'::jsonb,
  body TEXT NOT NULL DEFAULT '',
  -- Size of the whole body in bytes (as declared when it was not read because it was too large).
  body_bytes BIGINT NOT NULL,
  body_truncated BOOLEAN NOT NULL DEFAULT false,
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

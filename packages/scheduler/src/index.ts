export * from './cron/index.js';
export { runPreview, PREVIEW_USAGE, type Writer } from './cli/preview.js';

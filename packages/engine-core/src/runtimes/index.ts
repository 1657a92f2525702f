export { httpRuntime, type HttpRuntimeOptions } from './http-runtime.js';
export { shellRuntime, type ShellRuntimeOptions } from './shell-runtime.js';
export { registerBuiltinRuntimes, type BuiltinRuntimeOptions, type RuntimeTarget } from './builtin.js';
export { HostAllowList } from './host-allow-list.js';
export { processGroupMembers, killProcessGroup } from './process-group.js';

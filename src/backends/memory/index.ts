/**
 * The in-process backend: `npm start`, tests, examples. One process only.
 * @module
 */
export { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';

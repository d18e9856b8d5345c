/**
 * The Redis backend: the production engine, for many workers on many machines.
 * @module
 */
export { RedisBackend, type Durability, type RedisBackendOptions } from './redis-backend.js';
export { queueKeys, type QueueKeys } from './keys.js';

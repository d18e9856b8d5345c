import { afterAll } from 'vitest';

import { MemoryBackend } from '../src/backends/memory/memory-backend.js';
import { runBackendConformance } from './conformance/index.js';

const backend = new MemoryBackend();
afterAll(() => backend.close());

runBackendConformance({ name: 'memory', backend: () => backend });

/**
 * The adapters by system name.
 * @module
 */
import type { Adapter, SystemName } from '../lib/types.js';
import { BeeAdapter } from './bee.js';
import { BullmqAdapter } from './bullmq.js';
import { RetracedAdapter } from './retraced.js';

export function createAdapter(name: SystemName): Adapter {
  switch (name) {
    case 'retraced':
      return new RetracedAdapter();
    case 'bullmq':
      return new BullmqAdapter();
    case 'bee':
      return new BeeAdapter();
  }
}

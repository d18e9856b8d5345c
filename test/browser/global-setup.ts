/**
 * Vitest globalSetup of the `browser` project: the tests load the built dashboard (dist/ui/), so
 * it is built first when missing or out of date (the same check `npm start` runs).
 */
import { buildUi, isStale } from '../../scripts/build-ui.js';

export default async function setup(): Promise<void> {
  if (!isStale()) return;
  const started = Date.now();
  await buildUi();
  console.log(`browser tests: built dist/ui/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

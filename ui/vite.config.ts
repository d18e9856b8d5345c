/**
 * The dashboard's build: `npm run build:ui` writes dist/ui/ (index.html + hashed assets under
 * /ui/assets/), which the HTTP app serves at `/`. No inline script: the entry is a module file.
 */
import { fileURLToPath } from 'node:url';

import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/ui/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Inlined assets would become data: URLs; keep every asset a file of this origin.
    assetsInlineLimit: 0,
    // The modulepreload polyfill would be bundled, not inlined; modern browsers do not need it.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});

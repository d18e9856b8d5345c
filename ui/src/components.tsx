/**
 * Small shared pieces: error and status messages, state badges, JSON as a collapsible tree, a
 * patch diff. Everything a job brings (names, data, errors, stacks) is rendered as text nodes.
 */
import type { ComponentChildren } from 'preact';

import type { PatchChange } from './types.js';

export function ErrorMessage({ error, action }: { error: Error | undefined; action?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {action ? `${action}: ` : ''}
      {error.message}
    </p>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind.replace(/[^a-z_]/g, '')}`}>{children}</span>;
}

export function LiveDot({ live }: { live: boolean }) {
  return (
    <span class={live ? 'live on' : 'live'} role="status">
      {live ? 'live' : 'offline (reconnecting)'}
    </span>
  );
}

function leaf(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** A JSON value as nested <details>: objects and arrays fold, the first `open` levels start open. */
export function JsonTree({ value, label, open = 2 }: { value: unknown; label: string; open?: number }) {
  if (value === null || typeof value !== 'object') {
    return (
      <div class="json-leaf">
        <span class="json-key">{label}</span>: <span class="json-value">{leaf(value)}</span>
      </div>
    );
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  const shape = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <details class="json" open={open > 0}>
      <summary>
        <span class="json-key">{label}</span> <span class="muted">{shape}</span>
      </summary>
      <div class="json-children">
        {entries.map(([k, v]) => (
          <JsonTree key={k} value={v} label={k} open={open - 1} />
        ))}
      </div>
    </details>
  );
}

/** A data patch as a diff: one row per changed leaf, before and after. */
export function PatchDiff({ changes, caption }: { changes: readonly PatchChange[]; caption: string }) {
  if (changes.length === 0) return <p class="muted">{caption}: no change to the data.</p>;
  return (
    <table class="diff">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">path</th>
          <th scope="col">change</th>
          <th scope="col">before</th>
          <th scope="col">after</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.path}>
            <td>
              <code>{c.path}</code>
            </td>
            <td>{c.op}</td>
            <td class="del">{c.op === 'add' ? '' : leaf(c.before)}</td>
            <td class="ins">{c.op === 'remove' ? '' : leaf(c.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

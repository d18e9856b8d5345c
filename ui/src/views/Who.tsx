/**
 * "Who does this": recorded with every manual action; remembered for the session. And the fields
 * of a manual replay (who, note, data patch), with their state, as every replay form has them.
 */
import { useState } from 'preact/hooks';

const KEY = 'retraced.who';

export function useWho(): [string, (who: string) => void] {
  const [who, set] = useState(() => sessionStorage.getItem(KEY) ?? '');
  return [
    who,
    (w: string) => {
      sessionStorage.setItem(KEY, w);
      set(w);
    },
  ];
}

export function WhoField({ who, setWho, id }: { who: string; setWho: (w: string) => void; id: string }) {
  return (
    <label for={id}>
      Who (recorded)
      <input
        id={id}
        value={who}
        required
        maxLength={200}
        placeholder="your name"
        onInput={(e) => setWho(e.currentTarget.value)}
      />
    </label>
  );
}

function parsePatch(text: string): { patch?: unknown; error?: string } {
  if (text.trim() === '') return {};
  try {
    return { patch: JSON.parse(text) as unknown };
  } catch (e) {
    return { error: `the patch is not JSON: ${(e as Error).message}` };
  }
}

interface ReplayFieldsProps {
  idPrefix: string;
  who: string;
  setWho: (w: string) => void;
  note: string;
  setNote: (n: string) => void;
  patchText: string;
  setPatchText: (t: string) => void;
  patchError: string | undefined;
}

/** The state of a replay form's fields. */
export interface ReplayForm {
  /** What `<ReplayFields>` takes. */
  readonly fields: ReplayFieldsProps;
  /** The data patch, when one is given and parses. */
  readonly patch: unknown;
  /** Who is given and the patch (if any) parses. */
  readonly ready: boolean;
  /** The manual part of a replay request: by, and the note and patch when given. */
  readonly request: { by: string; note?: string; patch?: unknown };
}

export function useReplayForm(idPrefix: string): ReplayForm {
  const [who, setWho] = useWho();
  const [note, setNote] = useState('');
  const [patchText, setPatchText] = useState('');
  const parsed = parsePatch(patchText);
  return {
    fields: { idPrefix, who, setWho, note, setNote, patchText, setPatchText, patchError: parsed.error },
    patch: parsed.patch,
    ready: who.trim() !== '' && parsed.error === undefined,
    request: {
      by: who,
      ...(note.trim() !== '' ? { note } : {}),
      ...(parsed.patch !== undefined ? { patch: parsed.patch } : {}),
    },
  };
}

/**
 * The fields of a manual replay: who (required), a note, and an optional JSON Merge Patch for the
 * data, with the patch's parse error.
 */
export function ReplayFields({
  idPrefix,
  who,
  setWho,
  note,
  setNote,
  patchText,
  setPatchText,
  patchError,
}: ReplayFieldsProps) {
  return (
    <>
      <div class="fields">
        <WhoField who={who} setWho={setWho} id={`${idPrefix}-who`} />
        <label>
          Note
          <input value={note} onInput={(e) => setNote(e.currentTarget.value)} maxLength={2000} />
        </label>
      </div>
      <label class="block">
        Data patch (JSON Merge Patch, optional)
        <textarea
          rows={3}
          value={patchText}
          spellcheck={false}
          placeholder='{"email": "fixed@example.com"}'
          onInput={(e) => setPatchText(e.currentTarget.value)}
        />
      </label>
      {patchError && (
        <p class="error" role="alert">
          {patchError}
        </p>
      )}
    </>
  );
}

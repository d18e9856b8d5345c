/**
 * "Who does this": recorded with every manual action; remembered for the session.
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

/**
 * The fields of a manual replay, as every replay form has them: who (required), a note, and an
 * optional JSON Merge Patch for the data, with the patch's parse error.
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
}: {
  idPrefix: string;
  who: string;
  setWho: (w: string) => void;
  note: string;
  setNote: (n: string) => void;
  patchText: string;
  setPatchText: (t: string) => void;
  patchError: string | undefined;
}) {
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

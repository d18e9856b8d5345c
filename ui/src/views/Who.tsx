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

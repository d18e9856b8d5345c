/**
 * URLs as the CLI shows them: in messages, logs and banners a URL's credentials are `***`, never
 * the secret, even when the URL is malformed (a mistyped `redis//:PASSWORD@host` is echoed by the
 * error that refuses it).
 * @module
 */

const HIDDEN = '***';

/**
 * `redis://user:PASSWORD@host:6379/0` → `redis://user:***@host:6379/0`. A user name without a
 * password may itself be the secret (`https://TOKEN@host`, `redis://PASSWORD@host` in older
 * clients), so it is hidden too: `https://***@host/`. Text that does not parse as a URL with a
 * host keeps what follows its last `@` (the host) and hides everything between `//` (or the
 * start) and it.
 * Text without an `@` has no credentials and is returned as it is.
 */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  // No host: no authority either (`redis:PASSWORD@host` parses, with all of that as its path).
  if (u === undefined || u.host === '') {
    const slashes = url.indexOf('//');
    const from = slashes >= 0 && slashes < at ? slashes + 2 : 0;
    return `${url.slice(0, from)}${HIDDEN}${url.slice(at)}`;
  }
  if (u.password) u.password = HIDDEN;
  else if (u.username) u.username = HIDDEN;
  else return url; // the `@` is in the path or the query
  return u.href;
}

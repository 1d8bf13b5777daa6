/**
 * Package index URLs the user names, and the secrets they may carry (`https://user:token@host/simple`).
 * One place decides how such a URL is shown (`maskUrl`), how it is keyed and cached (`urlWithoutCredentials`),
 * how the host sends it (`splitCredentials`: Node's fetch refuses URLs with credentials) and whether an
 * installer must be told to trust its host (`plainHttpHost`). Every stage imports these, so a message,
 * a log line or a file written to disk never holds the password.
 */

const mask = '***';

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * The URL as it may be shown: `https://user:***@host/simple`. A password alone, or a user name alone
 * (a token given as the user, as GitLab and others take it), is masked as well. Text that is not a URL
 * still has anything between `//` and `@` masked, so a mistyped URL in an error message leaks nothing.
 */
export function maskUrl(url: string): string {
  const parsed = parse(url);
  if (parsed === undefined || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url.replace(/\/\/[^/@\s]*@/g, `//${mask}@`);
  if (parsed.username === '' && parsed.password === '') return url;
  if (parsed.password !== '') parsed.password = mask;
  else parsed.username = mask;
  return parsed.toString();
}

/** The URL with no user name or password: what environment keys, caches and log lines use. */
export function urlWithoutCredentials(url: string): string {
  const parsed = parse(url);
  if (parsed === undefined) return url;
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Whether the URL carries a user name or a password. */
export function hasCredentials(url: string): boolean {
  const parsed = parse(url);
  return parsed !== undefined && (parsed.username !== '' || parsed.password !== '');
}

/**
 * The URL to request and, when it carried credentials, the `Authorization: Basic` header that sends
 * them instead (the way pip and uv send them).
 */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = parse(url);
  if (parsed === undefined || (parsed.username === '' && parsed.password === '')) return { url };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  return { url: urlWithoutCredentials(url), authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** The host name of an `http://` URL (an index with no TLS, which installers refuse unless told to trust it); undefined otherwise. */
export function plainHttpHost(url: string): string | undefined {
  const parsed = parse(url);
  return parsed?.protocol === 'http:' ? parsed.hostname : undefined;
}

/**
 * `text` with every secret of `urls` replaced by `***`: for output pycage does not write itself (an
 * installer's), which may quote the URL in a form `maskUrl` cannot predict.
 */
export function maskSecretsIn(text: string, urls: ReadonlyArray<string | undefined>): string {
  let masked = text;
  for (const url of urls) {
    if (url === undefined) continue;
    const parsed = parse(url);
    if (parsed === undefined) continue;
    // The password, or the user name when it is the only secret (a token given as the user).
    const secret = parsed.password !== '' ? parsed.password : parsed.username;
    if (secret === '') continue;
    // The raw and the decoded spellings: installers print either.
    for (const spelling of new Set([secret, safeDecode(secret)])) masked = masked.split(spelling).join(mask);
  }
  return masked;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Splits the `dump-options` annotation into argv words the way a POSIX shell
 * would split them, without a shell: whitespace separates words, single
 * quotes keep everything literal, double quotes keep whitespace and allow
 * \" \\ \$ \` escapes, a backslash outside quotes escapes the next
 * character. No expansion of any kind. Newlines and NUL are refused: an
 * option never needs one, and they only hide things in an Event or a log.
 */
export function splitShellWords(
  input: string,
): { ok: true; words: string[] } | { ok: false; reason: string } {
  if (/[\n\r\0]/.test(input)) return { ok: false, reason: 'contains a newline or NUL' };
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) return { ok: false, reason: 'has an unterminated single quote' };
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < input.length) {
        const d = input[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < input.length && '"\\$`'.includes(input[i + 1]!)) {
          word += input[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) return { ok: false, reason: 'has an unterminated double quote' };
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= input.length) return { ok: false, reason: 'ends with a lone backslash' };
      word += input[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

// Reading a typed code in the browser by the rules of codes/normalize.py, from
// the same tables (table.js is generated from the Python): case, spaces and
// dashes, Crockford look-alikes, Cyrillic look-alikes and the Russian ЙЦУКЕН
// layout; the check symbol catches a typo before the form is sent.
import { ALPHABET, CHECK, CROCKFORD, IGNORED, LAYOUT, LENGTH, LOOKALIKE } from "./table.js";

const SEPARATORS = new RegExp(IGNORED, "g");

export function wellFormed(code) {
  let sum = 0;
  for (let i = 0; i < LENGTH - 1; i += 1) sum ^= CHECK[i][ALPHABET.indexOf(code[i])];
  return ALPHABET[sum] === code[LENGTH - 1];
}

const latin = (ch) => CROCKFORD[ch] || ch;

function options(ch) {
  if (ALPHABET.includes(ch)) return [ch];
  if (CROCKFORD[ch]) return [CROCKFORD[ch]];
  const found = [];
  for (const table of [LOOKALIKE, LAYOUT]) {
    if (table[ch]) {
      const l = latin(table[ch]);
      if (ALPHABET.includes(l) && !found.includes(l)) found.push(l);
    }
  }
  return found;
}

function extract(raw) {
  let text = raw.trim();
  const marker = text.toLowerCase().lastIndexOf("/c/");
  if (text.includes("://") && marker >= 0) text = text.slice(marker + 3).split(/[?#]/)[0];
  return text;
}

// {reason: null | "short" | "long" | "symbols" | "typo", candidates: [...]}, best first.
export function read(raw) {
  const text = extract(raw).replace(SEPARATORS, "").toUpperCase();
  const opts = [];
  for (const ch of text) {
    const o = options(ch);
    if (!o.length) return { reason: "symbols", candidates: [] };
    opts.push(o);
  }
  if (opts.length < LENGTH) return { reason: "short", candidates: [] };
  if (opts.length > LENGTH) return { reason: "long", candidates: [] };
  const layout = opts.map((o) => o[o.length - 1]).join("");
  const lookalike = opts.map((o) => o[0]).join("");
  const chars = [...text];
  let readings;
  // One reading per way of typing, as on the server.
  if (chars.some((c) => LAYOUT[c] && !LOOKALIKE[c])) readings = [layout];
  else if (chars.some((c) => (ALPHABET.includes(c) && /[A-Z]/.test(c)) || CROCKFORD[c])) readings = [lookalike];
  else readings = [layout, lookalike];
  const good = readings.filter((c, k) => readings.indexOf(c) === k && wellFormed(c));
  return { reason: good.length ? null : "typo", candidates: good };
}

"""Checks of a rendered page, shared by the browser tests and `make screenshots`.

Each check returns a list of findings (empty: the page passes):

- `horizontal_scroll`: the page is wider than the screen;
- `small_targets`: buttons, fields and block links under 44 x 44 px (links inside a
  sentence are exempt, as WCAG 2.5.8 exempts inline targets);
- `english_words`: English words on a Russian page (a heuristic: latin words of four
  letters or more, less codes, e-mail addresses, links and the names in ALLOWED);
- `axe_findings`: axe-core's serious and critical violations (WCAG 2 A and AA rules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"

# Latin words that belong on a Russian page: names, units, formats.
ALLOWED = {
    "Partner",
    "Club",
    "Telegram",
    "WhatsApp",
    "Android",
    "iPhone",
    "Excel",
    "Leaflet",
    "OpenStreetMap",
    "Ozon",
    "Wildberries",
    "Yandex",
    "English",
    "demo",
    "example",
    "club",
    "http",
    "https",
    "www",
}

_SCROLL = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

_TARGETS = """() => {
  const out = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('a[href], button, summary, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea')) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0) continue;  // hidden or off-screen (skip link)
    if (el.closest('.leaflet-container, .report-map')) continue;  // the map's own controls are checked with the map
    if (el.tagName === 'A' && style.display === 'inline') {
      const parent = el.parentElement;
      const text = (parent.innerText || '').trim();
      if (text.length > (el.innerText || '').trim().length + 2) continue;  // a link inside a sentence
    }
    if (r.height < 43.5 || r.width < 43.5) {
      const name = (el.innerText || el.getAttribute('aria-label') || el.name || el.tagName).trim().slice(0, 40);
      const key = el.tagName + name;
      if (!seen.has(key)) { seen.add(key); out.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`); }
    }
  }
  return out;
}"""

_WORDS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const words = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest('script, style, code, pre, .code-shown, .code-input, .invite-code, [lang=en], [translate=no], .leaflet-control-attribution')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    for (const token of node.textContent.split(/\\s+/)) {
      if (/[@\\/.:_=0-9]/.test(token.replace(/[.,:;!?)]+$/, ''))) continue;  // e-mails, links, codes, SKUs
      const word = token.replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, '');
      if (/^[A-Za-z]{4,}$/.test(word) && word !== word.toUpperCase()) words.add(word);
    }
  }
  return [...words];
}"""


def horizontal_scroll(page: Any) -> list[str]:
    extra = page.evaluate(_SCROLL)
    return [f"the page is {extra} px wider than the screen"] if extra > 0 else []


def small_targets(page: Any) -> list[str]:
    return page.evaluate(_TARGETS)


def english_words(page: Any) -> list[str]:
    return sorted(w for w in page.evaluate(_WORDS) if w not in ALLOWED)


def axe_findings(page: Any) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                             resultTypes: ['violations']});
          return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                  .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')})`);
        }"""
    )
    return list(result)


def check_page(page: Any, *, russian: bool) -> dict[str, list[str]]:
    findings = {
        "horizontal scroll": horizontal_scroll(page),
        "small tap targets": small_targets(page),
        "accessibility": axe_findings(page),
    }
    if russian:
        findings["English words"] = english_words(page)
    return {k: v for k, v in findings.items() if v}

// Client-side reading of a typed code, the same rules as codes/normalize.py:
// case, spaces and dashes, Crockford look-alikes, Cyrillic look-alikes and the
// Russian ЙЦУКЕН layout; the check symbol (GF(32), see codes/scheme.py) catches
// a typo before the form is sent. The server reads the raw text again.
(function () {
  "use strict";
  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var CROCKFORD = {O: "0", I: "1", L: "1"};
  var LOOKALIKE = {"А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "0", "Р": "P",
                   "С": "C", "Т": "T", "Х": "X", "З": "3", "Ч": "4", "Б": "6"};
  var LAYOUT = {"Й": "Q", "Ц": "W", "У": "E", "К": "R", "Е": "T", "Н": "Y", "Г": "U", "Ш": "I", "Щ": "O",
                "З": "P", "Ф": "A", "Ы": "S", "В": "D", "А": "F", "П": "G", "Р": "H", "О": "J", "Л": "K",
                "Д": "L", "Я": "Z", "Ч": "X", "С": "C", "М": "V", "И": "B", "Т": "N", "Ь": "M"};
  var LENGTH = 13;

  function gfMul(a, b) {
    var p = 0;
    while (b) {
      if (b & 1) { p ^= a; }
      b >>= 1; a <<= 1;
      if (a & 0x20) { a ^= 0x25; }
    }
    return p;
  }
  var WEIGHTS = [], w = 1;
  for (var i = 0; i < 12; i++) { w = gfMul(w, 2); WEIGHTS.push(w); }

  function wellFormed(code) {
    var sum = 0;
    for (var i = 0; i < 12; i++) { sum ^= gfMul(WEIGHTS[i], ALPHABET.indexOf(code[i])); }
    return ALPHABET[sum] === code[12];
  }

  function latin(ch) { return CROCKFORD[ch] || ch; }

  function options(ch) {
    if (ALPHABET.indexOf(ch) >= 0) { return [ch]; }
    if (CROCKFORD[ch]) { return [CROCKFORD[ch]]; }
    var found = [];
    [LOOKALIKE, LAYOUT].forEach(function (table) {
      if (table[ch]) {
        var l = latin(table[ch]);
        if (ALPHABET.indexOf(l) >= 0 && found.indexOf(l) < 0) { found.push(l); }
      }
    });
    return found;
  }

  function extract(raw) {
    var text = raw.trim(), marker = text.toLowerCase().lastIndexOf("/c/");
    if (text.indexOf("://") >= 0 && marker >= 0) { text = text.slice(marker + 3).split(/[?#]/)[0]; }
    return text;
  }

  // {reason: null|"short"|"long"|"symbols"|"typo", candidates: [...]}
  function read(raw) {
    var text = extract(raw).replace(/[\s\-\u2010-\u2015_.]+/g, "").toUpperCase();
    var opts = [], i;
    for (i = 0; i < text.length; i++) {
      var o = options(text[i]);
      if (!o.length) { return {reason: "symbols", candidates: []}; }
      opts.push(o);
    }
    if (text.length < LENGTH) { return {reason: "short", candidates: []}; }
    if (text.length > LENGTH) { return {reason: "long", candidates: []}; }
    var layout = opts.map(function (o) { return o[o.length - 1]; }).join("");
    var lookalike = opts.map(function (o) { return o[0]; }).join("");
    var readings;
    var chars = text.split("");
    if (chars.some(function (c) { return LAYOUT[c] && !LOOKALIKE[c]; })) { readings = [layout]; }
    else if (chars.some(function (c) { return (/[A-Z]/).test(c); })) { readings = [lookalike]; }
    else { readings = [layout, lookalike]; }
    var good = readings.filter(function (c, k) { return readings.indexOf(c) === k && wellFormed(c); });
    return {reason: good.length ? null : "typo", candidates: good};
  }

  window.clubCodes = {read: read};

  document.querySelectorAll("[data-code-form]").forEach(function (form) {
    var input = form.querySelector("[data-code-input]");
    var feedback = form.querySelector("[data-code-feedback]");
    var messages = {typo: feedback.dataset.msgTypo, short: feedback.dataset.msgShort,
                    long: feedback.dataset.msgLong, symbols: feedback.dataset.msgSymbols};
    function show(reason) {
      feedback.textContent = reason ? messages[reason] : "";
      input.setAttribute("aria-invalid", reason ? "true" : "false");
      form.querySelector(".field").classList.toggle("has-error", !!reason);
    }
    input.addEventListener("input", function () {
      var result = read(input.value);
      input.classList.toggle("is-valid", !result.reason);
      // Only speak up while typing once the code is long enough to judge.
      if (result.reason === "typo" || result.reason === "long" || result.reason === "symbols") { show(result.reason); }
      else { show(null); }
    });
    form.addEventListener("submit", function (event) {
      var result = read(input.value);
      if (result.reason) {
        event.preventDefault();
        show(result.reason);
        input.focus();
      }
    });
  });
})();

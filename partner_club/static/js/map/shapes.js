// Region shapes per level of detail, each file fetched once per page: a
// country-wide level as one collection, a finer level region by region.
const loaded = new Map();

export function levelForZoom(zooms, zoom) {
  for (const [top, level] of zooms) {
    if (zoom <= top) return level;
  }
  return zooms[zooms.length - 1][1];
}

function fetchJson(url) {
  if (!loaded.has(url)) {
    loaded.set(
      url,
      fetch(url, { credentials: "same-origin" }).then((response) => {
        if (!response.ok) throw new Error(`${url}: ${response.status}`);
        return response.json();
      }),
    );
  }
  return loaded.get(url);
}

export function loadShapes(pattern, level) {
  return fetchJson(pattern.replace("{level}", String(level)));
}

export function loadRegion(pattern, level, iso) {
  return fetchJson(pattern.replace("{level}", String(level)).replace("{iso}", encodeURIComponent(iso)));
}
